package haproxy

import (
	"os"
	"strings"
	"testing"

	"github.com/authbench/authbench/stack"
)

func TestMaxConnFollowsTheStack(t *testing.T) {
	st := &stack.State{Dir: "/tmp/s", LBHost: stack.LBHost, LBPort: 5000, PGPort: 5001}
	s := lb{st, &State{Socket: "/tmp/s/haproxy/admin.sock", StatsPort: 5002}}
	if !strings.Contains(s.haproxyConfig(), "maxconn 2000\n") {
		t.Errorf("default config lacks maxconn 2000:\n%s", s.haproxyConfig())
	}
	st.MaxConnections = 2100
	if !strings.Contains(s.haproxyConfig(), "maxconn 2100\n") || fdsFor(2100) < 4200 {
		t.Errorf("with 2100 connections: fds %d, config:\n%s", fdsFor(2100), s.haproxyConfig())
	}
	if got := procNoFile(os.Getpid()); got == "?" || got == "" {
		t.Errorf("procNoFile of this process = %q, want its limit", got)
	}
}
