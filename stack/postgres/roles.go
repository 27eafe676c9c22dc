package postgres

import (
	"context"
	"fmt"
	"io"

	"github.com/authbench/authbench/stack"
	"github.com/jackc/pgx/v5"
)

// bootstrap creates the benchmark database, the shared role and every user.
func (s cluster) bootstrap(ctx context.Context, log io.Writer) error {
	if err := s.createDatabase(ctx); err != nil {
		return err
	}
	conn, err := connectAdmin(ctx, s.State, s.Database)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := ensureRole(ctx, conn, stack.RWRole, "NOLOGIN"); err != nil {
		return err
	}
	db := ident(s.Database)
	for _, stmt := range []string{
		"GRANT ALL ON SCHEMA public TO " + ident(stack.RWRole),
		"GRANT ALL ON DATABASE " + db + " TO " + ident(stack.RWRole),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("grant %s its privileges: %w", stack.RWRole, err)
		}
	}
	if err := defaultPrivileges(ctx, conn, s.AdminUser); err != nil {
		return err
	}
	for _, u := range s.Users {
		if err := s.ensureUser(ctx, conn, u, log); err != nil {
			return err
		}
	}
	return nil
}

// createDatabase creates the benchmark database owned by the admin.
func (s cluster) createDatabase(ctx context.Context) error {
	conn, err := connectAdmin(ctx, s.State, "postgres")
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

// syncUser is the DatabaseServer's SyncUser: u is in s and saved.
func (s cluster) syncUser(ctx context.Context, u stack.User) error {
	pu, err := pgRunner(s.Dir)
	if err != nil {
		return err
	}
	conn, err := connectAdmin(ctx, s.State, s.Database)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := s.ensureUser(ctx, conn, u, io.Discard); err != nil {
		return err
	}
	changed, err := s.writePGFiles(pu)
	if err != nil || !changed {
		return err
	}
	return s.reloadPostgres(ctx)
}

// ensureUser creates or updates one role and its credentials.
func (s cluster) ensureUser(ctx context.Context, conn *pgx.Conn, u stack.User, log io.Writer) error {
	if err := stack.ValidRoleName(u.Name); err != nil {
		return err
	}
	if err := ensureRole(ctx, conn, u.Name, "LOGIN IN ROLE "+ident(stack.RWRole)); err != nil {
		return err
	}
	for _, stmt := range []string{
		"ALTER ROLE " + ident(u.Name) + " LOGIN",
		"GRANT " + ident(stack.RWRole) + " TO " + ident(u.Name),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("set up role %s: %w", u.Name, err)
		}
	}
	if err := defaultPrivileges(ctx, conn, u.Name); err != nil {
		return err
	}
	if err := s.SetUpCredentials(ctx, conn, u); err != nil {
		return err
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
			ident(owner), kind, ident(stack.RWRole))
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("set default privileges of %s: %w", owner, err)
		}
	}
	return nil
}

// ident quotes a SQL identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
