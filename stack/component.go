package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/spf13/pflag"
)

// Component is an optional server of the stack besides PostgreSQL and
// HAProxy (the KDC, the SPIFFE Workload API, Vault, Prometheus). Each lives
// in its own package under stack/, registers itself from init with
// Register, and keeps its persisted state in its own section of state.json
// (see Section). Components reach each other only through what State
// offers: users (AddUser), pg_hba and postgresql.conf lines (AddHBA,
// AddPGConf), client CAs (AddClientCA) and the database as admin.
type Component interface {
	// Name is the component's name: its state.json section, its
	// `--without` name, its built-in server's `serve-<name>`.
	Name() string
	// Merge takes the component's settings from cfg (cfg.Settings(Name()))
	// into s, enabling it when cfg asks for it; it runs on every Up before
	// anything starts, so what it adds to s is saved first.
	Merge(cfg Config, s *State)
	// Enabled reports whether the stack in s has this component.
	Enabled(s *State) bool
	// Prepare starts what PostgreSQL depends on and adds the component's
	// users, pg_hba lines, postgresql.conf lines and client CAs to s; it
	// runs before PostgreSQL's configuration is written.
	Prepare(ctx context.Context, s *State, log io.Writer) error
	// Finish runs once PostgreSQL and HAProxy are up and the roles exist.
	Finish(ctx context.Context, s *State, log io.Writer) error
	// Stop stops the component's processes and waits until they are gone.
	Stop(s *State, log io.Writer) error
	// Status reports the component's processes.
	Status(s *State) []ComponentStatus
	// Env returns the component's variables for `stack env`.
	Env(s *State) []EnvVar
}

// FlagOwner is a Component with flags of `stack up`.
type FlagOwner interface {
	// AddFlags registers the component's flags on fs and returns what turns
	// their values into the component's settings for Config.Enable (nil
	// settings: the flags do not ask for the component).
	AddFlags(fs *pflag.FlagSet) func() (settings any, err error)
}

// DefaultOn is a Component that `stack up` runs unless told to leave it out.
type DefaultOn interface {
	// DefaultOn reports true.
	DefaultOn() bool
}

// Server is a Component whose built-in server runs as
// `authbench stack serve-<Name()> --dir DIR` (see StartServer).
type Server interface {
	// Serve runs the server in the foreground until ctx ends, printing
	// ReadyPrefix to stdout once it serves.
	Serve(ctx context.Context, s *State, stdout io.Writer) error
}

// Rotator is a Component that can replace a user's credential of some auth
// modes, as the deployment's infrastructure would.
type Rotator interface {
	// RotatesMode reports whether Rotate handles the auth mode.
	RotatesMode(mode string) bool
	// Rotate replaces user's credential and returns what was done, for the
	// event's detail (never a secret).
	Rotate(ctx context.Context, s *State, user string) (string, error)
}

type registered struct {
	order int
	c     Component
}

// registry holds the registered components, sorted by order.
var registry []registered

// Register adds c to the stack; order places it among the others (lower
// first: Prepare and Finish run in that order, Stop in the reverse). A
// second component with c's name panics at init.
func Register(order int, c Component) {
	for _, r := range registry {
		if r.c.Name() == c.Name() {
			panic(fmt.Sprintf("stack: component %q registered twice", c.Name()))
		}
	}
	registry = append(registry, registered{order, c})
	slices.SortStableFunc(registry, func(a, b registered) int { return a.order - b.order })
}

// Components returns the registered components in start order.
func Components() []Component {
	out := make([]Component, len(registry))
	for i, r := range registry {
		out[i] = r.c
	}
	return out
}

// Lookup returns the registered component name.
func Lookup(name string) (Component, bool) {
	for _, r := range registry {
		if r.c.Name() == name {
			return r.c, true
		}
	}
	return nil, false
}

func (s *State) mergeComponents(cfg Config) {
	for _, c := range Components() {
		c.Merge(cfg, s)
	}
}

// eachEnabled runs f on the enabled components in start order.
func (s *State) eachEnabled(f func(Component) error) error {
	for _, c := range Components() {
		if c.Enabled(s) {
			if err := f(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// stopComponents stops the enabled components in reverse order. A section
// of state.json whose component this program does not register is an
// error: its processes cannot be stopped from here.
func (s *State) stopComponents(log io.Writer) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(s.sections)) {
		if _, ok := Lookup(name); !ok {
			errs = append(errs, fmt.Errorf("the stack in %s has component %q, which this program does not register: import github.com/authbench/authbench/stack/all to stop it", s.Dir, name))
		}
	}
	comps := Components()
	for i := len(comps) - 1; i >= 0; i-- {
		if c := comps[i]; c.Enabled(s) {
			errs = append(errs, c.Stop(s, log))
		}
	}
	return errors.Join(errs...)
}

func (s *State) componentStatus() []ComponentStatus {
	var out []ComponentStatus
	_ = s.eachEnabled(func(c Component) error { out = append(out, c.Status(s)...); return nil })
	return out
}

func (s *State) componentEnv() []EnvVar {
	var out []EnvVar
	_ = s.eachEnabled(func(c Component) error { out = append(out, c.Env(s)...); return nil })
	return out
}
