package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/spiffe/spiffeissuer"
)

// spiffeFlags are the flags of `stack up` for the spiffe component.
type spiffeFlags struct {
	ttl         time.Duration
	trustDomain string
}

func (f *spiffeFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&f.ttl, "svid-ttl", spiffeissuer.DefaultTTL, "lifetime of the SPIFFE X509-SVIDs the stack issues; a new one is pushed at half of it")
	fs.StringVar(&f.trustDomain, "trust-domain", spiffeissuer.DefaultTrustDomain, "SPIFFE trust domain of the stack's Workload API")
}

// config returns the component's configuration; it is on unless
// `--without spiffe` leaves it out.
func (f *spiffeFlags) config() (*stack.SPIFFEConfig, error) {
	if f.ttl < spiffeissuer.MinTTL {
		return nil, fmt.Errorf("--svid-ttl must be at least %s, got %s", spiffeissuer.MinTTL, f.ttl)
	}
	if _, err := spiffeid.TrustDomainFromString(f.trustDomain); err != nil {
		return nil, fmt.Errorf("--trust-domain %q is not a SPIFFE trust domain: use lower-case letters, digits, dots, dashes and underscores, like %s", f.trustDomain, spiffeissuer.DefaultTrustDomain)
	}
	return &stack.SPIFFEConfig{TTL: f.ttl, TrustDomain: f.trustDomain}, nil
}
