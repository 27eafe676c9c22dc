package main

import (
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack"
)

// kerberosFlags are the flags of `stack up` for the kerberos component.
type kerberosFlags struct{}

func (f *kerberosFlags) register(fs *pflag.FlagSet) {}

// config returns the component's configuration (nil: not wired yet).
func (f *kerberosFlags) config() (*stack.KerberosConfig, error) { return nil, nil }
