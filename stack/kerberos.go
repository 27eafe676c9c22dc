package stack

import (
	"context"
	"io"
)

// kerberosComponent runs the stack's kerberos server. Not yet wired: disabled.
type kerberosComponent struct{}

func (kerberosComponent) name() string                                               { return "kerberos" }
func (kerberosComponent) merge(cfg Config, s *State)                                 {}
func (kerberosComponent) enabled(s *State) bool                                      { return false }
func (kerberosComponent) prepare(ctx context.Context, s *State, log io.Writer) error { return nil }
func (kerberosComponent) finish(ctx context.Context, s *State, log io.Writer) error  { return nil }
func (kerberosComponent) stop(s *State, log io.Writer) error                         { return nil }
func (kerberosComponent) status(s *State) []ComponentStatus                          { return nil }
func (kerberosComponent) env(s *State) []EnvVar                                      { return nil }

// KerberosConfig configures the stack's Kerberos component.
type KerberosConfig struct{}

// KerberosState is the persisted state of the stack's Kerberos component.
type KerberosState struct{}
