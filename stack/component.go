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

// Component is a part of the stack: the PKI, PostgreSQL, HAProxy, the KDC,
// the SPIFFE Workload API, Vault, Prometheus. Each lives in its own package
// under stack/, registers itself from init with Register or
// RegisterOrdered, and keeps its persisted state in its own section of
// state.json (see Section). Components reach each other only through what
// State offers: users (AddUser), pg_hba and postgresql.conf lines (AddHBA,
// AddPGConf), client CAs (AddClientCA), the database as admin (DatabaseServer)
// and user credentials (Credentials).
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
	// Finish runs once every Starter has started (PostgreSQL and HAProxy
	// are up, the roles exist).
	Finish(ctx context.Context, s *State, log io.Writer) error
	// Stop stops the component's processes and waits until they are gone.
	Stop(s *State, log io.Writer) error
	// Status reports the component's processes.
	Status(s *State) []ComponentStatus
	// Env returns the component's variables for `stack env`.
	Env(s *State) []EnvVar
}

// Starter is a Component that starts between Prepare and Finish: the
// servers the others' Finish depends on (PostgreSQL, HAProxy).
type Starter interface {
	// Start starts the component's servers, or reloads running ones.
	Start(ctx context.Context, s *State, log io.Writer) error
}

// Checker is a Component that checks, before Up changes anything, that it
// can run: its binaries are installed, its user can reach the state dir.
type Checker interface {
	// Check says what is missing and how to get it.
	Check(dir string) error
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

// Part is a Component that belongs to another: its owner's flags and
// settings enable it, and it exports no environment of its own.
type Part interface {
	// PartOf returns the owner's name.
	PartOf() string
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

// Order places a component in each of the core's sequences (lower first).
// Start orders Prepare, Start and Finish; Stop orders Down (a component
// stops before those it depends on: Vault before HAProxy and PostgreSQL);
// Status orders `stack status` and Env.
type Order struct {
	Start, Stop, Status int
}

type registered struct {
	order Order
	c     Component
}

// registry holds the registered components.
var registry []registered

// Register adds c to the stack; order places it among the others (lower
// first: Prepare, Start and Finish run in that order, Stop in the reverse,
// Status in that order). A second component with c's name panics at init.
func Register(order int, c Component) {
	RegisterOrdered(Order{Start: order, Stop: -order, Status: order}, c)
}

// RegisterOrdered is Register with a separate place in each sequence.
func RegisterOrdered(order Order, c Component) {
	for _, r := range registry {
		if r.c.Name() == c.Name() {
			panic(fmt.Sprintf("stack: component %q registered twice", c.Name()))
		}
	}
	registry = append(registry, registered{order, c})
}

// Components returns the registered components in start order.
func Components() []Component { return sorted(func(o Order) int { return o.Start }) }

// sorted returns the registered components ordered by key.
func sorted(key func(Order) int) []Component {
	rs := sortedRegistered(key)
	out := make([]Component, len(rs))
	for i, r := range rs {
		out[i] = r.c
	}
	return out
}

// sortedRegistered returns the registry ordered by key.
func sortedRegistered(key func(Order) int) []registered {
	rs := slices.Clone(registry)
	slices.SortStableFunc(rs, func(a, b registered) int { return key(a.order) - key(b.order) })
	return rs
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
	return s.eachEnabledIn(Components(), f)
}

// eachEnabledIn runs f on the enabled components of comps, in order.
func (s *State) eachEnabledIn(comps []Component, f func(Component) error) error {
	for _, c := range comps {
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
	if _, err := database(); err != nil {
		errs = append(errs, err)
	}
	for _, name := range slices.Sorted(maps.Keys(s.sections)) {
		if _, ok := Lookup(name); !ok {
			errs = append(errs, fmt.Errorf("the stack in %s has component %q, which this program does not register: import github.com/authbench/authbench/stack/all to stop it", s.Dir, name))
		}
	}
	_ = s.eachEnabledIn(sorted(func(o Order) int { return o.Stop }), func(c Component) error {
		errs = append(errs, c.Stop(s, log))
		return nil
	})
	return errors.Join(errs...)
}

func (s *State) componentStatus() []ComponentStatus {
	var out []ComponentStatus
	_ = s.eachEnabledIn(sorted(func(o Order) int { return o.Status }), func(c Component) error {
		out = append(out, c.Status(s)...)
		return nil
	})
	return out
}
