package stack

import (
	"context"
	"errors"
	"io"
)

// component is an optional server of the stack besides PostgreSQL and
// HAProxy: the KDC, the SPIFFE Workload API, Vault. Each lives in its own
// file and keeps its persisted state in its own field of State.
type component interface {
	// name is the component's name in status lines.
	name() string
	// merge takes the component's part of cfg into s (enabling it when cfg
	// asks for it); it runs on every Up before anything starts.
	merge(cfg Config, s *State)
	// enabled reports whether the stack in s has this component.
	enabled(s *State) bool
	// prepare starts what PostgreSQL depends on and adds the component's
	// users, pg_hba lines, postgresql.conf lines and client CAs to s; it
	// runs before PostgreSQL's configuration is written.
	prepare(ctx context.Context, s *State, log io.Writer) error
	// finish runs once PostgreSQL and HAProxy are up and the roles exist.
	finish(ctx context.Context, s *State, log io.Writer) error
	// stop stops the component's processes and waits until they are gone.
	stop(s *State, log io.Writer) error
	// status reports the component's processes.
	status(s *State) []ComponentStatus
	// env returns the component's variables for `stack env`.
	env(s *State) []EnvVar
}

// components are started in this order and stopped in the reverse order.
var components = []component{kerberosComponent{}, spiffeComponent{}, vaultComponent{}, prometheusComponent{}}

func (s *State) mergeComponents(cfg Config) {
	for _, c := range components {
		c.merge(cfg, s)
	}
}

func (s *State) prepareComponents(ctx context.Context, log io.Writer) error {
	for _, c := range components {
		if c.enabled(s) {
			if err := c.prepare(ctx, s, log); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *State) finishComponents(ctx context.Context, log io.Writer) error {
	for _, c := range components {
		if c.enabled(s) {
			if err := c.finish(ctx, s, log); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *State) stopComponents(log io.Writer) error {
	var errs []error
	for i := len(components) - 1; i >= 0; i-- {
		if c := components[i]; c.enabled(s) {
			errs = append(errs, c.stop(s, log))
		}
	}
	return errors.Join(errs...)
}

func (s *State) componentStatus() []ComponentStatus {
	var out []ComponentStatus
	for _, c := range components {
		if c.enabled(s) {
			out = append(out, c.status(s)...)
		}
	}
	return out
}

func (s *State) componentEnv() []EnvVar {
	var out []EnvVar
	for _, c := range components {
		if c.enabled(s) {
			out = append(out, c.env(s)...)
		}
	}
	return out
}
