package main

import (
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack"
)

// vaultFlags are the flags of `stack up` for the vault component.
type vaultFlags struct {
	cfg stack.VaultConfig
}

func (f *vaultFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&f.cfg.DefaultTTL, "vault-default-ttl", stack.DefaultVaultTTL, "lease TTL of the dynamic database credentials Vault issues (role "+stack.VaultRole+")")
	fs.DurationVar(&f.cfg.MaxTTL, "vault-max-ttl", stack.DefaultVaultMaxTTL, "longest a dynamic credential's lease can be renewed to")
	fs.DurationVar(&f.cfg.StaticRotation, "vault-static-rotation", stack.DefaultVaultStaticRotation, "how often Vault rotates the password of the static role "+stack.VaultStaticRole)
}

// config returns the component's configuration; it is on unless
// `--without vault` leaves it out.
func (f *vaultFlags) config() (*stack.VaultConfig, error) {
	if err := f.cfg.Validate(); err != nil {
		return nil, err
	}
	c := f.cfg
	return &c, nil
}
