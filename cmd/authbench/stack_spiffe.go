package main

import (
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack"
)

// spiffeFlags are the flags of `stack up` for the spiffe component.
type spiffeFlags struct{}

func (f *spiffeFlags) register(fs *pflag.FlagSet) {}

// config returns the component's configuration (nil: not wired yet).
func (f *spiffeFlags) config() (*stack.SPIFFEConfig, error) { return nil, nil }
