package vault

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/vault/api"
)

// secret is a value that must never be printed. It is held in a closure,
// so that fmt, which walks unexported fields, has nothing to show but a
// func address; every formatting verb on it shows "(redacted)". reveal
// returns the value for the one place that needs it, the connection config.
type secret struct{ get func() string }

func newSecret(v string) secret { return secret{func() string { return v }} }

// String implements fmt.Stringer.
func (secret) String() string { return "(redacted)" }

// GoString implements fmt.GoStringer.
func (secret) GoString() string { return "(redacted)" }

// Format implements fmt.Formatter, so %v, %+v, %q and friends redact too.
func (secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("(redacted)")) }

// MarshalText implements encoding.TextMarshaler.
func (secret) MarshalText() ([]byte, error) { return []byte("(redacted)"), nil }

func (s secret) reveal() string {
	if s.get == nil {
		return ""
	}
	return s.get()
}

// Credential set flags.
const (
	flagSuspect  uint32 = 1 << iota // the server ended a session: ask Vault before the next use
	flagRejected                    // the database refused it
	flagRevoked                     // Vault no longer has its lease
	flagFinal                       // the lease will not be renewed any further
)

// credSet is one set of database credentials from Vault.
type credSet struct {
	gen       int64
	username  string
	password  secret
	leaseID   string        // "" for a static role
	renewable bool          // the lease can be renewed
	issued    time.Time     // when it was read
	ttl       time.Duration // lease TTL when read; a static role's rotation period
	rotated   time.Time     // static role: last_vault_rotation
	lease     *api.Secret   // the read's answer, for the LifetimeWatcher

	expire     atomic.Int64 // unix ns: lease expiry, or a static role's next rotation
	flags      atomic.Uint32
	retireFrom atomic.Int64 // unix ns when it was superseded; 0 while current
	retireSpan atomic.Int64 // ns over which its connections are retired
	watcher    atomic.Pointer[api.LifetimeWatcher]
}

func (s *credSet) static() bool { return s.leaseID == "" }

func (s *credSet) expiry() time.Time { return time.Unix(0, s.expire.Load()) }

func (s *credSet) setExpiry(t time.Time) { s.expire.Store(t.UnixNano()) }

func (s *credSet) has(f uint32) bool { return s.flags.Load()&f != 0 }

// mark sets f and reports whether it was not set before.
func (s *credSet) mark(f uint32) bool {
	for {
		old := s.flags.Load()
		if old&f != 0 {
			return false
		}
		if s.flags.CompareAndSwap(old, old|f) {
			return true
		}
	}
}

func (s *credSet) clear(f uint32) {
	for {
		old := s.flags.Load()
		if s.flags.CompareAndSwap(old, old&^f) {
			return
		}
	}
}

// dead reports whether the set cannot log in any more.
func (s *credSet) dead(now time.Time) bool {
	return s.has(flagRevoked|flagRejected) || (!s.static() && !now.Before(s.expiry()))
}

// supersede starts the retirement of the set's connections: each is
// retired at from + span × its own random fraction.
func (s *credSet) supersede(from time.Time, span time.Duration) {
	s.retireSpan.Store(int64(span))
	s.retireFrom.Store(from.UnixNano())
}

// retireAt returns when a connection with the given jitter fraction should
// be retired; false while the set is current and alive. A static role's
// sessions are never retired: its user stays, and a new password does not
// end open sessions.
func (s *credSet) retireAt(jitter float64) (time.Time, bool) {
	if !s.static() && s.has(flagRevoked|flagRejected) {
		return time.Time{}, true // dead logins: their sessions go now
	}
	from := s.retireFrom.Load()
	if from == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, from).Add(time.Duration(jitter * float64(s.retireSpan.Load()))), true
}

// stopWatcher stops the lease's renewals, if any.
func (s *credSet) stopWatcher() {
	if w := s.watcher.Load(); w != nil {
		w.Stop()
	}
}

// Format implements fmt.Formatter: a set prints as describe, never with
// its password.
func (s *credSet) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.describe())) }

// describe is the set for an event: user, lease and TTL; never the password.
func (s *credSet) describe() string {
	if s.static() {
		return fmt.Sprintf("user %s, password rotated %s, next rotation in %s",
			s.username, s.rotated.Format(time.RFC3339), max(0, time.Until(s.expiry())).Round(time.Second))
	}
	r := "renewable"
	if !s.renewable {
		r = "not renewable"
	}
	return fmt.Sprintf("user %s, lease %s, ttl %s, %s", s.username, s.leaseID, s.ttl, r)
}
