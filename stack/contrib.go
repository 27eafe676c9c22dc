package stack

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// What components add to the stack. Merge and Prepare call these; Up
// writes PostgreSQL's files from the result.

// AddUser adds u or updates the method of the user with u's name (roles,
// once made, keep their pg_hba line).
func (s *State) AddUser(u User) { s.addUser(u) }

// UserNames returns the names of the users with the given method.
func (s *State) UserNames(method string) []string {
	var out []string
	for _, u := range s.Users {
		if u.Method == method {
			out = append(out, u.Name)
		}
	}
	return out
}

// AddHBA adds the pg_hba lines s lacks, before the final reject lines.
func (s *State) AddHBA(lines ...string) { s.ExtraHBA = appendNew(s.ExtraHBA, lines...) }

// RemoveHBA removes pg_hba lines a component added earlier.
func (s *State) RemoveHBA(lines ...string) {
	s.ExtraHBA = slices.DeleteFunc(slices.Clone(s.ExtraHBA), func(l string) bool { return slices.Contains(lines, l) })
}

// AddPGConf adds the postgresql.conf lines s lacks.
func (s *State) AddPGConf(lines ...string) { s.ExtraPGConf = appendNew(s.ExtraPGConf, lines...) }

// AddClientCA adds a PEM file to the CAs PostgreSQL trusts for clients.
func (s *State) AddClientCA(path string) { s.ExtraClientCAs = appendNew(s.ExtraClientCAs, path) }

// appendNew appends the lines list lacks, never into the caller's Config
// slice that list may share its array with.
func appendNew(list []string, lines ...string) []string {
	list = slices.Clip(list)
	for _, l := range lines {
		if !slices.Contains(list, l) {
			list = append(list, l)
		}
	}
	return list
}

// HBALine is a pg_hba line letting user in from addr with method over TLS.
func HBALine(user, addr, method string) string { return hbaLine(user, addr, method) }

// ConfQuote quotes a postgresql.conf string value.
func ConfQuote(v string) string { return confQuote(v) }

// MaxSocketPath is the longest unix socket path the kernel accepts.
const MaxSocketPath = maxSocketPath

// GiveToPostgres makes path owned by the user PostgreSQL runs as (a no-op
// unless the stack runs as root), for files PostgreSQL reads.
func (s *State) GiveToPostgres(path string) error {
	pu, err := pgRunner(s.Dir)
	if err != nil {
		return err
	}
	if o := pu.owner(); o != nil {
		if err := os.Chown(path, o.UID, o.GID); err != nil {
			return fmt.Errorf("give %s to user %s: %w", path, pu.name, err)
		}
	}
	return nil
}

// MkdirTraversable creates dir if need be and makes it 0755 even when it
// already existed, so that other users can reach the files inside.
func MkdirTraversable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("make %s traversable: %w", dir, err)
	}
	return nil
}

// EnsureRole creates role name with options (e.g. "NOLOGIN") in the
// benchmark database's cluster unless it exists.
func (s *State) EnsureRole(ctx context.Context, name, options string) error {
	conn, err := s.ConnectAdmin(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return ensureRole(ctx, conn, name, options)
}

// ConnectAdmin connects to the benchmark database as AdminUser, directly
// to PostgreSQL (see AdminConnConfig); the caller closes the connection.
func (s *State) ConnectAdmin(ctx context.Context) (*pgx.Conn, error) {
	return s.connectAdmin(ctx, s.Database)
}

// HostPort joins host and port, e.g. "127.0.0.1:5432".
func HostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
