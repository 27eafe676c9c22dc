package vaultsrv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresMaxConns is the admin pool size: Vault's database plugins default
// to max_open_connections = 4.
const postgresMaxConns = 4

// validUntilLayout is how VALID UNTIL timestamps are written (UTC, with an
// explicit offset, accepted by PostgreSQL and CockroachDB).
const validUntilLayout = "2006-01-02 15:04:05.999999-07:00"

// errNUL is returned for names or passwords with a NUL byte, which no
// PostgreSQL string can hold (pgx's Identifier.Sanitize would drop it
// silently and address a different role).
var errNUL = errors.New("vaultsrv: NUL byte in a role name, grant or password")

// PostgresDB is the DB that manages real login roles on PostgreSQL or
// CockroachDB through an admin connection pool. Identifiers and literals are
// quoted in SQL (utility statements take no parameters); passwords are sent
// as SCRAM-SHA-256 verifiers, never in plaintext when avoidable, and never
// appear in an error.
type PostgresDB struct {
	connConfig *pgx.ConnConfig

	once    sync.Once
	pool    *pgxpool.Pool
	poolErr error
}

// NewPostgresDB returns a DB that connects with connConfig, which must be
// allowed to create, alter and drop roles and to end their sessions. It does
// not connect until the first call; Close releases the pool.
func NewPostgresDB(connConfig *pgx.ConnConfig) *PostgresDB {
	return &PostgresDB{connConfig: connConfig.Copy()}
}

// Close closes the admin pool, if one was opened.
func (p *PostgresDB) Close() {
	if p.pool != nil {
		p.pool.Close()
	}
}

// getPool opens the admin pool on first use.
func (p *PostgresDB) getPool() (*pgxpool.Pool, error) {
	p.once.Do(func() {
		cfg, err := pgxpool.ParseConfig("")
		if err != nil {
			p.poolErr = fmt.Errorf("vaultsrv: admin pool config: %w", err)
			return
		}
		cfg.ConnConfig = p.connConfig.Copy()
		cfg.MaxConns = postgresMaxConns
		p.pool, p.poolErr = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	return p.pool, p.poolErr
}

// CreateRole runs CREATE ROLE … LOGIN PASSWORD … VALID UNTIL … and one
// GRANT per grant role, in one transaction.
func (p *PostgresDB) CreateRole(ctx context.Context, name, password string, validUntil time.Time, grantRoles []string) error {
	stmts, err := createRoleSQL(name, password, validUntil, grantRoles)
	if err != nil {
		return err
	}
	pool, err := p.getPool()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return execAll(ctx, tx, stmts) })
	return wrapRoleErr("create", name, err)
}

// SetValidUntil runs ALTER ROLE … VALID UNTIL ….
func (p *PostgresDB) SetValidUntil(ctx context.Context, name string, validUntil time.Time) error {
	stmt, err := validUntilSQL(name, validUntil)
	if err != nil {
		return err
	}
	return p.exec(ctx, "renew", name, stmt)
}

// SetPassword runs ALTER ROLE … PASSWORD ….
func (p *PostgresDB) SetPassword(ctx context.Context, name, password string) error {
	stmt, err := passwordSQL(name, password)
	if err != nil {
		return err
	}
	return p.exec(ctx, "set password of", name, stmt)
}

// DropRole revokes the role: it stops new logins (NOLOGIN), ends the
// role's sessions (pg_terminate_backend; CANCEL SESSIONS on CockroachDB),
// hands what it owns to the admin user (REASSIGN OWNED), drops its
// privileges (DROP OWNED) and drops it. A role that does not exist is not
// an error.
func (p *PostgresDB) DropRole(ctx context.Context, name string) error {
	if strings.ContainsRune(name, 0) {
		return errNUL
	}
	pool, err := p.getPool()
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return wrapRoleErr("drop", name, err)
	}
	defer conn.Release()
	return wrapRoleErr("drop", name, dropRole(ctx, conn.Conn(), name))
}

func dropRole(ctx context.Context, conn *pgx.Conn, name string) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists); err != nil || !exists {
		return err
	}
	var admin string
	if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&admin); err != nil {
		return err
	}
	crdb := conn.PgConn().ParameterStatus("crdb_version") != ""
	if _, err := conn.Exec(ctx, "ALTER ROLE "+quoteIdent(name)+" WITH NOLOGIN"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, terminateSQL(crdb), name); err != nil {
		return err
	}
	return execAll(ctx, conn, dropOwnedSQL(name, admin))
}

// execer is what pgx.Conn and pgx.Tx share.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// execAll runs statements in order, stopping at the first error.
func execAll(ctx context.Context, db execer, stmts []string) error {
	for _, s := range stmts {
		if _, err := db.Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// exec runs one statement on the pool.
func (p *PostgresDB) exec(ctx context.Context, what, name, stmt string) error {
	pool, err := p.getPool()
	if err != nil {
		return err
	}
	_, err = pool.Exec(ctx, stmt)
	return wrapRoleErr(what, name, err)
}

// wrapRoleErr names the operation and role; the statement, which may hold
// a password, is never part of the message.
func wrapRoleErr(what, name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("vaultsrv: %s role %s: %w", what, quoteIdent(name), err)
}

// createRoleSQL builds CREATE ROLE and the GRANTs.
func createRoleSQL(name, password string, validUntil time.Time, grantRoles []string) ([]string, error) {
	if err := checkNoNUL(append([]string{name, password}, grantRoles...)...); err != nil {
		return nil, err
	}
	stmts := []string{fmt.Sprintf("CREATE ROLE %s WITH LOGIN PASSWORD %s VALID UNTIL %s",
		quoteIdent(name), passwordLiteral(password), quoteLiteral(validUntil.UTC().Format(validUntilLayout)))}
	for _, g := range grantRoles {
		stmts = append(stmts, fmt.Sprintf("GRANT %s TO %s", quoteIdent(g), quoteIdent(name)))
	}
	return stmts, nil
}

// validUntilSQL builds ALTER ROLE … VALID UNTIL ….
func validUntilSQL(name string, validUntil time.Time) (string, error) {
	if err := checkNoNUL(name); err != nil {
		return "", err
	}
	return fmt.Sprintf("ALTER ROLE %s WITH VALID UNTIL %s",
		quoteIdent(name), quoteLiteral(validUntil.UTC().Format(validUntilLayout))), nil
}

// passwordSQL builds ALTER ROLE … PASSWORD ….
func passwordSQL(name, password string) (string, error) {
	if err := checkNoNUL(name, password); err != nil {
		return "", err
	}
	return fmt.Sprintf("ALTER ROLE %s WITH PASSWORD %s", quoteIdent(name), passwordLiteral(password)), nil
}

// terminateSQL ends every session of the role given as $1.
func terminateSQL(crdb bool) string {
	if crdb {
		return "CANCEL SESSIONS IF EXISTS (SELECT session_id FROM [SHOW CLUSTER SESSIONS] WHERE user_name = $1)"
	}
	return "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()"
}

// dropOwnedSQL builds REASSIGN OWNED, DROP OWNED and DROP ROLE.
func dropOwnedSQL(name, admin string) []string {
	return []string{
		fmt.Sprintf("REASSIGN OWNED BY %s TO %s", quoteIdent(name), quoteIdent(admin)),
		fmt.Sprintf("DROP OWNED BY %s", quoteIdent(name)),
		fmt.Sprintf("DROP ROLE IF EXISTS %s", quoteIdent(name)),
	}
}

// passwordLiteral is the SCRAM verifier of password as a literal, or the
// quoted password itself when it cannot be pre-hashed safely.
func passwordLiteral(password string) string {
	if v, ok := scramVerifier(password); ok {
		return quoteLiteral(v)
	}
	return quoteLiteral(password)
}

// quoteIdent quotes an identifier: double quotes, inner quotes doubled.
func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// quoteLiteral quotes a string literal as PostgreSQL's quote_literal does:
// single quotes doubled and, if there is a backslash, backslashes doubled
// in an escape string (E'...'), so the result is right whatever
// standard_conforming_strings says.
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}

func checkNoNUL(ss ...string) error {
	for _, s := range ss {
		if strings.ContainsRune(s, 0) {
			return errNUL
		}
	}
	return nil
}
