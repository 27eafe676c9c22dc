package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/kdc"
)

// kerberosFlags are the flags of `stack up` for the KDC. Flags left unset
// keep what an existing stack has (its realm cannot change anyway).
type kerberosFlags struct {
	fs       *pflag.FlagSet
	realm    string
	lifetime time.Duration
}

func (f *kerberosFlags) register(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.realm, "realm", kdc.DefaultRealm, "Kerberos realm of the stack's KDC (fixed once the stack exists)")
	fs.DurationVar(&f.lifetime, "ticket-lifetime", kdc.DefaultTicketLifetime, "maximum Kerberos ticket lifetime, TGTs included (short values exercise renewal)")
}

// config returns the KDC's configuration; unset flags stay zero so that
// an existing stack keeps its settings.
func (f *kerberosFlags) config() (*stack.KerberosConfig, error) {
	c := &stack.KerberosConfig{}
	if f.fs.Changed("realm") {
		if f.realm == "" {
			return nil, fmt.Errorf("--realm is empty: pass a realm such as %s", kdc.DefaultRealm)
		}
		c.Realm = f.realm
	}
	if f.fs.Changed("ticket-lifetime") {
		if f.lifetime < time.Second {
			return nil, fmt.Errorf("--ticket-lifetime %s is under 1s: Kerberos counts whole seconds, use e.g. 30s or 10h", f.lifetime)
		}
		c.TicketLifetime = f.lifetime
	}
	return c, nil
}
