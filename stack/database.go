package stack

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
)

// What the core asks of components by role rather than by package, so that
// no component imports another: the database (stack/postgres), the load
// balancer (stack/haproxy) and whoever issues users' credentials.

// DatabaseServer is the Component that runs the stack's PostgreSQL.
type DatabaseServer interface {
	Component
	// ConnectAdmin connects to database db as AdminUser, directly to
	// PostgreSQL; the caller closes the connection.
	ConnectAdmin(ctx context.Context, s *State, db string) (*pgx.Conn, error)
	// EnsureRole creates role name with options unless it exists.
	EnsureRole(ctx context.Context, conn *pgx.Conn, name, options string) error
	// SyncUser makes u, already in s and saved, a login role with its
	// credentials and pg_hba line, reloading PostgreSQL if need be.
	SyncUser(ctx context.Context, s *State, u User) error
	// Restart restarts PostgreSQL with a fast shutdown.
	Restart(ctx context.Context, s *State) error
	// SignalReload makes a running PostgreSQL re-read its configuration
	// and certificate files (SIGHUP, no wait and no connection, so the
	// user PostgreSQL runs as may call it); a no-op when it is not running.
	SignalReload(s *State) error
	// FileOwner is who must own the files PostgreSQL reads (nil: the
	// current user).
	FileOwner(s *State) (*Owner, error)
}

// LoadBalancer is the Component that runs the stack's load balancer.
type LoadBalancer interface {
	Component
	// Command sends one command to the load balancer's runtime API and
	// returns its answer.
	Command(s *State, cmd string) (string, error)
}

// Credentials is a Component that gives users of some methods their
// credentials (a client certificate, a password).
type Credentials interface {
	// SetUpUser gives u its credential unless it has one; conn is the
	// admin's connection to the benchmark database.
	SetUpUser(ctx context.Context, s *State, conn *pgx.Conn, u User) error
}

// errNoDatabase: the program registers no Database component.
var errNoDatabase = errors.New("no PostgreSQL component is registered: import github.com/authbench/authbench/stack/all")

// database returns the registered DatabaseServer.
func database() (DatabaseServer, error) {
	for _, c := range Components() {
		if d, ok := c.(DatabaseServer); ok {
			return d, nil
		}
	}
	return nil, errNoDatabase
}

// ConnectAdmin connects to the benchmark database as AdminUser, directly
// to PostgreSQL (see AdminConnConfig); the caller closes the connection.
func (s *State) ConnectAdmin(ctx context.Context) (*pgx.Conn, error) {
	d, err := database()
	if err != nil {
		return nil, err
	}
	return d.ConnectAdmin(ctx, s, s.Database)
}

// EnsureRole creates role name with options (e.g. "NOLOGIN") in the
// benchmark database's cluster unless it exists.
func (s *State) EnsureRole(ctx context.Context, name, options string) error {
	d, err := database()
	if err != nil {
		return err
	}
	conn, err := d.ConnectAdmin(ctx, s, s.Database)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return d.EnsureRole(ctx, conn, name, options)
}

// EnsureUser makes u a login role in authbench_rw with its credentials
// (client certificate or password file) and its pg_hba line, reloading
// PostgreSQL if pg_hba.conf changed, and records u in state.json. It is
// idempotent; later parts of the stack (Kerberos, the credential server)
// add their roles with it.
func (s *State) EnsureUser(ctx context.Context, u User) error {
	if err := ValidRoleName(u.Name); err != nil {
		return err
	}
	d, err := database()
	if err != nil {
		return err
	}
	unlock, err := lockDir(s.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	fresh, err := Load(s.Dir) // another process may have added users
	if err != nil {
		return err
	}
	fresh.addUser(u)
	if err := fresh.save(); err != nil {
		return err
	}
	if err := d.SyncUser(ctx, fresh, u); err != nil {
		return err
	}
	*s = *fresh
	return nil
}

// SetUpCredentials gives u its credentials through every Credentials
// component (the database calls it for each user it sets up).
func (s *State) SetUpCredentials(ctx context.Context, conn *pgx.Conn, u User) error {
	for _, c := range Components() {
		if cr, ok := c.(Credentials); ok {
			if err := cr.SetUpUser(ctx, s, conn, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// RestartPostgres restarts PostgreSQL with a fast shutdown (all sessions are
// cut), for fault tests. HAProxy keeps running and sees the backend drop.
func (s *State) RestartPostgres(ctx context.Context) error {
	d, err := database()
	if err != nil {
		return err
	}
	return d.Restart(ctx, s)
}

// SignalPostgresReload makes a running PostgreSQL re-read its files, for a
// process that has no admin credentials (see DatabaseServer.SignalReload).
func (s *State) SignalPostgresReload() error {
	d, err := database()
	if err != nil {
		return err
	}
	return d.SignalReload(s)
}

// PostgresOwner is who must own the files PostgreSQL reads (nil: the
// current user).
func (s *State) PostgresOwner() (*Owner, error) {
	d, err := database()
	if err != nil {
		return nil, err
	}
	return d.FileOwner(s)
}

// GiveToPostgres makes path owned by the user PostgreSQL runs as (a no-op
// unless the stack runs as root), for files PostgreSQL reads.
func (s *State) GiveToPostgres(path string) error {
	o, err := s.PostgresOwner()
	if err != nil || o == nil {
		return err
	}
	if err := os.Chown(path, o.UID, o.GID); err != nil {
		return fmt.Errorf("give %s to uid %d: %w", path, o.UID, err)
	}
	return nil
}

// HAProxyCommand sends one command to HAProxy's runtime API (for example
// "disable server pg/pg1" or "show servers state") and returns its answer.
func (s *State) HAProxyCommand(cmd string) (string, error) {
	for _, c := range Components() {
		if lb, ok := c.(LoadBalancer); ok {
			return lb.Command(s, cmd)
		}
	}
	return "", errors.New("no HAProxy component is registered: import github.com/authbench/authbench/stack/all")
}
