package main

import (
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack"
)

// vaultFlags are the flags of `stack up` for the vault component.
type vaultFlags struct{}

func (f *vaultFlags) register(fs *pflag.FlagSet) {}

// config returns the component's configuration (nil: not wired yet).
func (f *vaultFlags) config() (*stack.VaultConfig, error) { return nil, nil }
