package stack

import (
	"context"
	"fmt"
	"io"

	"github.com/authbench/authbench/stack/pki"
	"github.com/jackc/pgx/v5"
)

// bootstrap creates the benchmark database, the shared role and every user.
func (s *State) bootstrap(ctx context.Context, ca *pki.CA, log io.Writer) error {
	if err := s.createDatabase(ctx); err != nil {
		return err
	}
	conn, err := s.connectAdmin(ctx, s.Database)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := ensureRole(ctx, conn, RWRole, "NOLOGIN"); err != nil {
		return err
	}
	db := ident(s.Database)
	for _, stmt := range []string{
		"GRANT ALL ON SCHEMA public TO " + ident(RWRole),
		"GRANT ALL ON DATABASE " + db + " TO " + ident(RWRole),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("grant %s its privileges: %w", RWRole, err)
		}
	}
	if err := defaultPrivileges(ctx, conn, s.AdminUser); err != nil {
		return err
	}
	for _, u := range s.Users {
		if err := s.ensureUser(ctx, conn, ca, u, log); err != nil {
			return err
		}
	}
	return nil
}

// createDatabase creates the benchmark database owned by the admin.
func (s *State) createDatabase(ctx context.Context) error {
	conn, err := s.connectAdmin(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", s.Database).Scan(&n); err != nil {
		return fmt.Errorf("look up database %s: %w", s.Database, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(s.Database)+" OWNER "+ident(s.AdminUser)); err != nil {
		return fmt.Errorf("create database %s: %w", s.Database, err)
	}
	return nil
}

// EnsureUser makes u a login role in authbench_rw with its credentials
// (client certificate or password file) and its pg_hba line, reloading
// PostgreSQL if pg_hba.conf changed, and records u in state.json. It is
// idempotent; later parts of the stack (Kerberos, the credential server)
// add their roles with it.
func (s *State) EnsureUser(ctx context.Context, u User) error {
	if err := validName(u.Name); err != nil {
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
	if err := fresh.ensureUserLocked(ctx, u); err != nil {
		return err
	}
	*s = *fresh
	return nil
}

// ensureUserLocked is EnsureUser once the state dir is locked.
func (s *State) ensureUserLocked(ctx context.Context, u User) error {
	pu, err := pgRunner(s.Dir)
	if err != nil {
		return err
	}
	ca, err := s.loadCA(pu)
	if err != nil {
		return err
	}
	if err := s.save(); err != nil {
		return err
	}
	conn, err := s.connectAdmin(ctx, s.Database)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := s.ensureUser(ctx, conn, ca, u, io.Discard); err != nil {
		return err
	}
	changed, err := s.writePGFiles(pu)
	if err != nil || !changed {
		return err
	}
	return s.reloadPostgres(ctx)
}

// ensureUser creates or updates one role and its credentials.
func (s *State) ensureUser(ctx context.Context, conn *pgx.Conn, ca *pki.CA, u User, log io.Writer) error {
	if err := validName(u.Name); err != nil {
		return err
	}
	if err := ensureRole(ctx, conn, u.Name, "LOGIN IN ROLE "+ident(RWRole)); err != nil {
		return err
	}
	for _, stmt := range []string{
		"ALTER ROLE " + ident(u.Name) + " LOGIN",
		"GRANT " + ident(RWRole) + " TO " + ident(u.Name),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("set up role %s: %w", u.Name, err)
		}
	}
	if err := defaultPrivileges(ctx, conn, u.Name); err != nil {
		return err
	}
	switch u.Method {
	case MethodCert:
		if err := s.ensureClientCert(ca, u.Name); err != nil {
			return err
		}
	case MethodPassword:
		if err := s.ensurePassword(ctx, conn, u.Name); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "postgres: role %s ready (%s)\n", u.Name, u.Method)
	return nil
}

// ensureRole creates role name with options unless it exists.
func ensureRole(ctx context.Context, conn *pgx.Conn, name, options string) error {
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname = $1", name).Scan(&n); err != nil {
		return fmt.Errorf("look up role %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE ROLE "+ident(name)+" "+options); err != nil {
		return fmt.Errorf("create role %s: %w", name, err)
	}
	return nil
}

// defaultPrivileges makes tables and sequences that owner creates usable by
// every bench user.
func defaultPrivileges(ctx context.Context, conn *pgx.Conn, owner string) error {
	for _, kind := range []string{"TABLES", "SEQUENCES"} {
		stmt := fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA public GRANT ALL ON %s TO %s",
			ident(owner), kind, ident(RWRole))
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("set default privileges of %s: %w", owner, err)
		}
	}
	return nil
}

// ident quotes a SQL identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
