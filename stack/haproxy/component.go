package haproxy

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/authbench/authbench/internal/proc"
	"github.com/authbench/authbench/stack"
)

// The stack component "haproxy": HAProxy in TCP mode in front of
// PostgreSQL, its stats page and its runtime API (stack.LoadBalancer). Its
// stats port and files are its section of state.json (State); the address
// clients connect to is the core's (LBHost, LBPort, LBIPv6).

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

// State is HAProxy's section of state.json. Its keys are those of the
// top-level fields of earlier versions' files, which it is read from when
// a stack has no section yet (stack.BaseSection).
type State struct {
	// StatsPort is the stats page's port on 127.0.0.1.
	StatsPort int `json:"stats_port"`
	// Config is HAProxy's configuration file.
	Config string `json:"haproxy_config"`
	// Socket is HAProxy's runtime API socket (level admin).
	Socket string `json:"haproxy_socket"`
}

// Of returns st's HAProxy section (nil before the first Up).
func Of(st *stack.State) *State { return stack.BaseSection[State](st, Name) }

// StatsURL returns the stats page's URL.
func (h *State) StatsURL() string { return fmt.Sprintf("http://127.0.0.1:%d/stats", h.StatsPort) }

// files returns a section with st's HAProxy files and no port yet.
func files(st *stack.State) *State {
	dir := filepath.Join(st.Dir, "haproxy")
	return &State{Config: filepath.Join(dir, "haproxy.cfg"), Socket: filepath.Join(dir, "admin.sock")}
}

// lb is a State seen as its load balancer.
type lb struct {
	*stack.State
	h *State
}

// view returns st as its load balancer; before the first Up, its files
// are where Up puts them.
func view(st *stack.State) lb {
	h := Of(st)
	if h == nil || h.Config == "" {
		h = files(st)
	}
	return lb{st, h}
}

type component struct{}

func (component) Name() string { return Name }

// Merge does nothing: Prepare picks the stats port.
func (component) Merge(stack.Config, *stack.State) {}

// Enabled: every stack has HAProxy.
func (component) Enabled(*stack.State) bool { return true }

// Check fails when haproxy is not installed.
func (component) Check(string) error {
	_, err := binary()
	return err
}

// Prepare gives a new stack its HAProxy section and stats port.
func (component) Prepare(_ context.Context, s *stack.State, _ io.Writer) error {
	if h := Of(s); h != nil && h.StatsPort != 0 {
		return nil
	}
	h := files(s)
	for h.StatsPort == 0 || h.StatsPort == s.LBPort || h.StatsPort == s.PGPort {
		port, err := stack.FreePort()
		if err != nil {
			return err
		}
		h.StatsPort = port
	}
	stack.SetSection(s, Name, h)
	return nil
}

// Start writes the configuration and starts HAProxy unless it runs.
func (component) Start(ctx context.Context, s *stack.State, log io.Writer) error {
	bin, err := binary()
	if err != nil {
		return err
	}
	return view(s).upHAProxy(ctx, bin, log)
}

func (component) Finish(context.Context, *stack.State, io.Writer) error { return nil }

func (component) Stop(s *stack.State, log io.Writer) error { return view(s).stopHAProxy(log) }

func (component) Status(s *stack.State) []stack.ComponentStatus {
	pid := view(s).haproxyPID()
	return []stack.ComponentStatus{{Name: Name, PID: pid, Address: stack.HostPort(s.LBHost, s.LBPort), Running: proc.Alive(pid),
		Detail: fmt.Sprintf("maxconn=%d nofile=%s", maxConn(s), procNoFile(pid))}}
}

// Env: the stats page (the address clients connect to is the core's
// AUTHBENCH_HOST and AUTHBENCH_PORT).
func (component) Env(s *stack.State) []stack.EnvVar {
	return []stack.EnvVar{{Name: "AUTHBENCH_STATS_URL", Value: view(s).h.StatsURL()}}
}

// Command sends one command to HAProxy's runtime API.
func (component) Command(s *stack.State, cmd string) (string, error) { return view(s).command(cmd) }

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
