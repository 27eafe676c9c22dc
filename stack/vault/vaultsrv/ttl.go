package vaultsrv

import (
	"errors"
	"fmt"
	"time"
)

// errPastMaxTTL is CalculateTTL's refusal once a lease has outlived its max.
var errPastMaxTTL = errors.New("past the max TTL, cannot renew")

// calculateTTL ports the non-periodic branch of Vault's
// sdk/framework.CalculateTTL, which both the database backend
// (path_creds_create.go, secret_creds.go) and the expiration manager's
// Renew (vault/expiration.go) apply:
//
//   - all times are truncated to the second;
//   - the TTL is the increment if positive, else the role's default TTL;
//   - the lease may not go past start+maxTTL: a longer TTL is capped to what
//     is left, with the warning
//     `TTL of "…" exceeded the effective max_ttl of "…"; TTL value is capped accordingly`.
//
// A zero start means "now" (a new lease).
func calculateTTL(now time.Time, increment, defaultTTL, maxTTL time.Duration, start time.Time) (time.Duration, []string, error) {
	now = now.Truncate(time.Second)
	if start.IsZero() {
		start = now
	} else {
		start = start.Truncate(time.Second)
	}
	if maxTTL <= 0 {
		return 0, nil, errors.New("max TTL must be greater than zero")
	}
	ttl := defaultTTL
	if increment > 0 {
		ttl = increment
	}
	maxValidTTL := start.Add(maxTTL).Sub(now)
	if maxValidTTL < 0 {
		return 0, nil, errPastMaxTTL
	}
	var warnings []string
	if maxValidTTL-ttl < 0 {
		warnings = append(warnings, fmt.Sprintf(
			"TTL of %q exceeded the effective max_ttl of %q; TTL value is capped accordingly", ttl, maxValidTTL))
		ttl = maxValidTTL
	}
	return ttl, warnings, nil
}

// leaseExpiry is now+ttl, but never past issued+maxTTL. Vault's second
// truncation can overshoot max_ttl by under a second; the stand-in promises a
// lease never outlives max_ttl.
func leaseExpiry(now time.Time, ttl time.Duration, issued time.Time, maxTTL time.Duration) time.Time {
	return minTime(now.Add(ttl), issued.Add(maxTTL))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// validUntilBuffer is the slack the database backend adds to a login's
// VALID UNTIL beyond the lease expiry, "to ensure the database credential
// does not expire before the lease" (path_creds_create.go, secret_creds.go).
const validUntilBuffer = 5 * time.Second

// seconds renders a duration as Vault's whole-second lease_duration.
func seconds(d time.Duration) int { return int(d / time.Second) }
