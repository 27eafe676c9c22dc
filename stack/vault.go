package stack

import (
	"context"
	"io"
)

// vaultComponent runs the stack's vault server. Not yet wired: disabled.
type vaultComponent struct{}

func (vaultComponent) name() string                                               { return "vault" }
func (vaultComponent) merge(cfg Config, s *State)                                 {}
func (vaultComponent) enabled(s *State) bool                                      { return false }
func (vaultComponent) prepare(ctx context.Context, s *State, log io.Writer) error { return nil }
func (vaultComponent) finish(ctx context.Context, s *State, log io.Writer) error  { return nil }
func (vaultComponent) stop(s *State, log io.Writer) error                         { return nil }
func (vaultComponent) status(s *State) []ComponentStatus                          { return nil }
func (vaultComponent) env(s *State) []EnvVar                                      { return nil }

// VaultConfig configures the stack's Vault component.
type VaultConfig struct{}

// VaultState is the persisted state of the stack's Vault component.
type VaultState struct{}
