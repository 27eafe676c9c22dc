package postgres

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack"
)

func TestMaxConnectionsFlagAndConf(t *testing.T) {
	st := testState()
	if !strings.Contains(view(st).pgConf(), "max_connections = 400\n") {
		t.Errorf("default postgresql.conf lacks max_connections = 400:\n%s", view(st).pgConf())
	}
	fs := pflag.NewFlagSet("stack up", pflag.ContinueOnError)
	get := component{}.AddFlags(fs)
	if v, err := get(); v != nil || err != nil {
		t.Fatalf("unset flag: settings %v, %v; want none, so a stack keeps its limit", v, err)
	}
	if err := fs.Parse([]string{"--max-connections", "2100"}); err != nil {
		t.Fatal(err)
	}
	v, err := get()
	if err != nil {
		t.Fatal(err)
	}
	var cfg stack.Config
	cfg.Enable(Name, v)
	component{}.Merge(cfg, st)
	if st.MaxConnections != 2100 || !strings.Contains(view(st).pgConf(), "max_connections = 2100\n") {
		t.Errorf("after --max-connections 2100: state %d, conf:\n%s", st.MaxConnections, view(st).pgConf())
	}
	component{}.Merge(stack.Config{}, st) // a later stack up without the flag
	if st.MaxConnections != 2100 {
		t.Errorf("a stack up without the flag changed the limit to %d", st.MaxConnections)
	}
	for _, bad := range []string{"5", "99999"} {
		fs := pflag.NewFlagSet("stack up", pflag.ContinueOnError)
		get := component{}.AddFlags(fs)
		_ = fs.Parse([]string{"--max-connections", bad})
		if _, err := get(); err == nil || !strings.Contains(err.Error(), "--max-connections must be between") {
			t.Errorf("--max-connections %s: %v, want one line with the range", bad, err)
		}
	}
}
