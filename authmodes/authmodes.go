// Package authmodes defines how authbench authenticates to the database and
// keeps the registry of modes. A Mode only configures a pgxpool.Config: TLS
// client certificates, passwords, Kerberos, SVIDs or Vault credentials are
// put into every new connection through pgx's own hooks. A mode notices new
// credentials and reacts, as it would in production; forcing a rotation is
// the credential issuer's job, not the mode's.
package authmodes

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/internal/registry"
)

// Meta describes an auth mode and constructs it.
type Meta struct {
	Name        string
	Description string
	// New registers the mode's own flags on fs, the mode's own flag set,
	// and returns the mode, which reads them once fs is parsed. Every flag
	// name carries the mode's prefix (--krb-, --spiffe-, --vault-) or is
	// the mode's alone (--cert, --password-file), so that a command can
	// show and accept only the selected modes' flags and tell which mode a
	// flag belongs to.
	New func(fs *pflag.FlagSet) Mode
}

// Mode is one way of authenticating.
type Mode interface {
	// DefaultUser is the SQL user when --user is not given ("" = none; a
	// UserIssuer names it when it connects).
	DefaultUser() string
	// Configure applies the mode to cfg, which already holds the host, the
	// user and the verified TLS settings. It may start background work
	// (renewals, watchers) that lasts until Close.
	Configure(ctx context.Context, cfg *pgxpool.Config, env Env) error
	// Settings returns the mode's settings for summary.json, with every
	// secret left out.
	Settings() map[string]string
	// Close stops the mode's background work.
	Close() error
}

// Rotator is implemented by modes whose client side renews its own
// credentials on demand: a fresh Kerberos login, new Vault credentials with
// the old lease revoked. `run --rotate-every` calls it; for the other modes
// the credential issuer (the stack) rotates. It returns what was done, for
// the event's detail (never a secret).
type Rotator interface {
	ForceRotation(ctx context.Context) (string, error)
}

// ConnRetirer is implemented by modes that themselves retire the pooled
// connections of superseded credentials (vault, with its retire jitter).
// After its part of a forced rotation, a fleet instance of any other mode
// recycles its pool, as an application that reloads its credentials does.
type ConnRetirer interface {
	RetiresConnections() bool
}

// PeerVerifier is implemented by modes that can verify the database server
// by another identity than its host name (spiffe's --server-spiffe-id).
type PeerVerifier interface {
	// ServerPeer returns the identity the server was verified as, "" when
	// it was verified as usual (--ca and the host name).
	ServerPeer() string
}

// NewInstance returns a new Mode of meta with its flags set from args
// (--name=value, as on the command line), for one instance of a fleet:
// configured on its own pool, it logs in, leases, watches and reloads on
// its own, exactly as the mode of a run of one instance does.
func NewInstance(meta Meta, args []string) (Mode, error) {
	fs := pflag.NewFlagSet(meta.Name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	m := meta.New(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("auth mode %s: %w", meta.Name, err)
	}
	return m, nil
}

// CallerPrepareConn returns the PrepareConn hook already set on cfg, or its
// deprecated BeforeAcquire as a PrepareConn (pgxpool ignores BeforeAcquire
// once PrepareConn is set), or nil; a mode that installs its own
// PrepareConn calls it to keep the caller's hook.
func CallerPrepareConn(cfg *pgxpool.Config) func(context.Context, *pgx.Conn) (bool, error) {
	//lint:ignore SA1019 honours a caller's deprecated hook
	before := cfg.BeforeAcquire
	if cfg.PrepareConn != nil || before == nil {
		return cfg.PrepareConn
	}
	return func(ctx context.Context, c *pgx.Conn) (bool, error) { return before(ctx, c), nil }
}

// Env is what a mode may use besides the pool config.
type Env struct {
	Events EventSink
	// Phases records handshake phases the mode measures itself (for
	// example "credential" for the first SVID); may be nil.
	Phases PhaseSink
	Log    io.Writer
}

// PhaseSink records the duration of a handshake phase; results.Registry
// implements it.
type PhaseSink interface {
	Phase(name string, d time.Duration)
}

// EventSink receives credential events (logins, renewals, rotations).
// results.Registry implements it. Detail must never hold a secret.
type EventSink interface {
	Event(kind, source, detail string, rotation bool)
}

var known = registry.New[Meta]("auth mode")

// Register adds a mode; called from the mode package's init().
func Register(m Meta) { known.Add(m.Name, m) }

// Lookup returns the named mode's Meta or an error listing the known ones.
func Lookup(name string) (Meta, error) { return known.Lookup(name) }

// Names returns the registered mode names, sorted.
func Names() []string { return known.Names() }

// All returns every registered mode's Meta, sorted by name.
func All() []Meta {
	var ms []Meta
	for _, n := range Names() {
		m, _ := known.Lookup(n)
		ms = append(ms, m)
	}
	return ms
}
