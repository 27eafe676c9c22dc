package haproxy

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/authbench/authbench/internal/proc"
	"github.com/authbench/authbench/stack"
)

// The stack component "haproxy": HAProxy in TCP mode in front of
// PostgreSQL, its stats page and its runtime API (stack.LoadBalancer). Its
// ports and paths are the core's State fields (LBPort, StatsPort,
// HAProxyConfig, HAProxySocket), which clients and state.json files of
// earlier versions name.

// Name is the component's name.
const Name = "haproxy"

// HAProxy starts once PostgreSQL has (Start phase), stops after everything
// that connects through it, and is the second line of `stack status`.
func init() {
	stack.RegisterOrdered(stack.Order{Start: 60, Stop: 80, Status: -10}, component{})
}

// haproxyPaths are where haproxy is looked for when it is not on PATH
// (/usr/sbin is often missing from a user's PATH).
var haproxyPaths = []string{"/usr/sbin/haproxy"}

// lb is a State seen as its load balancer.
type lb struct{ *stack.State }

type component struct{}

func (component) Name() string { return Name }

// Merge does nothing: HAProxy's ports and paths are the core's.
func (component) Merge(stack.Config, *stack.State) {}

// Enabled: every stack has HAProxy.
func (component) Enabled(*stack.State) bool { return true }

// Check fails when haproxy is not installed.
func (component) Check(string) error {
	_, err := binary()
	return err
}

func (component) Prepare(context.Context, *stack.State, io.Writer) error { return nil }

// Start writes the configuration and starts HAProxy unless it runs.
func (component) Start(ctx context.Context, s *stack.State, log io.Writer) error {
	bin, err := binary()
	if err != nil {
		return err
	}
	return lb{s}.upHAProxy(ctx, bin, log)
}

func (component) Finish(context.Context, *stack.State, io.Writer) error { return nil }

func (component) Stop(s *stack.State, log io.Writer) error { return lb{s}.stopHAProxy(log) }

func (component) Status(s *stack.State) []stack.ComponentStatus {
	pid := lb{s}.haproxyPID()
	return []stack.ComponentStatus{{Name: Name, PID: pid, Address: stack.HostPort(s.LBHost, s.LBPort), Running: proc.Alive(pid)}}
}

// Env: the load balancer's address and stats page are in the core's
// variables (AUTHBENCH_HOST, AUTHBENCH_PORT, AUTHBENCH_STATS_URL).
func (component) Env(*stack.State) []stack.EnvVar { return nil }

// Command sends one command to HAProxy's runtime API.
func (component) Command(s *stack.State, cmd string) (string, error) { return lb{s}.command(cmd) }

// binary locates haproxy.
func binary() (string, error) {
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p, nil
	}
	for _, p := range haproxyPaths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf(`haproxy 2.6 not found (haproxy): run "make deps" or apt-get install haproxy`)
}
