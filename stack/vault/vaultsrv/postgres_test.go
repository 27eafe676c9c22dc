package vaultsrv

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Quoting of weird names: PostgreSQL's quote_ident and quote_literal rules.
func TestQuoting(t *testing.T) {
	idents := map[string]string{
		`plain`:        `"plain"`,
		`Mixed-Case`:   `"Mixed-Case"`,
		`we"ird`:       `"we""ird"`,
		`a'b`:          `"a'b"`,
		`"; DROP ROLE`: `"""; DROP ROLE"`,
		`ünï cödé`:     `"ünï cödé"`,
	}
	for in, want := range idents {
		if got := quoteIdent(in); got != want {
			t.Errorf("quoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
	literals := map[string]string{
		`plain`:       `'plain'`,
		`it's`:        `'it''s'`,
		`back\slash`:  `E'back\\slash'`,
		`'\'`:         `E'''\\'''`,
		`'); DROP --`: `'''); DROP --'`,
	}
	for in, want := range literals {
		if got := quoteLiteral(in); got != want {
			t.Errorf("quoteLiteral(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRoleSQL(t *testing.T) {
	until := time.Date(2025, 6, 1, 12, 30, 45, 500000000, time.FixedZone("CEST", 2*3600))
	stmts, err := createRoleSQL(`v-root-we"ird`, "Pa55-word-with-20chr", until, []string{"app_read", `Odd "grant"`})
	if err != nil {
		t.Fatal(err)
	}
	create := regexp.MustCompile(`^CREATE ROLE "v-root-we""ird" WITH LOGIN PASSWORD 'SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}' VALID UNTIL '2025-06-01 10:30:45\.5\+00:00'$`)
	if len(stmts) != 3 || !create.MatchString(stmts[0]) {
		t.Fatalf("CREATE ROLE = %q", stmts)
	}
	if stmts[1] != `GRANT "app_read" TO "v-root-we""ird"` || stmts[2] != `GRANT "Odd ""grant""" TO "v-root-we""ird"` {
		t.Fatalf("GRANTs = %q", stmts[1:])
	}
	if strings.Contains(strings.Join(stmts, ";"), "Pa55-word") {
		t.Fatal("plaintext password in SQL")
	}

	s, _ := validUntilSQL(`a'b`, until)
	if s != `ALTER ROLE "a'b" WITH VALID UNTIL '2025-06-01 10:30:45.5+00:00'` {
		t.Fatalf("VALID UNTIL = %s", s)
	}
	// A password SCRAM cannot safely carry (non-ASCII) is sent quoted.
	s, _ = passwordSQL("u", `pä's\w`)
	if s != `ALTER ROLE "u" WITH PASSWORD E'pä''s\\w'` {
		t.Fatalf("password SQL = %s", s)
	}
	drop := dropOwnedSQL(`we"ird`, "postgres")
	want := []string{`REASSIGN OWNED BY "we""ird" TO "postgres"`, `DROP OWNED BY "we""ird"`, `DROP ROLE IF EXISTS "we""ird"`}
	if strings.Join(drop, "\n") != strings.Join(want, "\n") {
		t.Fatalf("drop = %q", drop)
	}
	if !strings.Contains(terminateSQL(false), "pg_terminate_backend") || !strings.Contains(terminateSQL(true), "CANCEL SESSIONS") {
		t.Fatal("terminate SQL")
	}
	for _, bad := range []error{
		func() error { _, err := createRoleSQL("a\x00b", "p", until, nil); return err }(),
		func() error { _, err := createRoleSQL("a", "p", until, []string{"g\x00"}); return err }(),
		func() error { _, err := passwordSQL("a", "p\x00"); return err }(),
		NewPostgresDB(&pgx.ConnConfig{}).DropRole(context.Background(), "a\x00"),
	} {
		if !errors.Is(bad, errNUL) {
			t.Fatalf("NUL accepted: %v", bad)
		}
	}
}

// The verifier checks out against RFC 5802's definitions.
func TestSCRAMVerifier(t *testing.T) {
	v, ok := scramVerifier("Pa55-word")
	if !ok {
		t.Fatal("ASCII password not pre-hashed")
	}
	m := regexp.MustCompile(`^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$`).FindStringSubmatch(v)
	if m == nil {
		t.Fatalf("verifier = %s", v)
	}
	salt, _ := base64.StdEncoding.DecodeString(m[1])
	salted, _ := pbkdf2.Key(sha256.New, "Pa55-word", salt, 4096, 32)
	mac := hmac.New(sha256.New, salted)
	mac.Write([]byte("Client Key"))
	stored := sha256.Sum256(mac.Sum(nil))
	if m[2] != base64.StdEncoding.EncodeToString(stored[:]) {
		t.Fatal("StoredKey does not match the password")
	}
	if _, ok := scramVerifier("pässword"); ok {
		t.Fatal("non-ASCII password pre-hashed")
	}
}

// TestPostgresDBAgainstServer exercises PostgresDB and the whole server on
// a real database when VAULTSRV_TEST_PG names an admin connection string
// (a superuser, password auth on 127.0.0.1); the stack's integration tests
// cover it otherwise.
func TestPostgresDBAgainstServer(t *testing.T) {
	dsn := os.Getenv("VAULTSRV_TEST_PG")
	if dsn == "" {
		t.Skip("VAULTSRV_TEST_PG not set")
	}
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	defer func() {
		_, _ = admin.Exec(ctx, `DROP TABLE IF EXISTS vaultsrv_owned`)
		_, _ = admin.Exec(ctx, `REVOKE CREATE ON SCHEMA public FROM "vaultsrv grp"`)
		_, _ = admin.Exec(ctx, `DROP ROLE IF EXISTS "vaultsrv grp"`)
	}()
	for _, q := range []string{
		`DROP TABLE IF EXISTS vaultsrv_owned`, `CREATE ROLE "vaultsrv grp"`, `GRANT CREATE ON SCHEMA public TO "vaultsrv grp"`,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db := NewPostgresDB(cc)
	defer db.Close()
	name, pass := `v-test-we"ird`, newPassword()
	_ = db.DropRole(ctx, name)
	if err := db.CreateRole(ctx, name, pass, time.Now().Add(time.Minute), []string{"vaultsrv grp"}); err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	conn := pgLogin(t, cc, name, pass)
	if _, err := conn.Exec(ctx, `CREATE TABLE vaultsrv_owned (id int)`); err != nil {
		t.Fatalf("granted role cannot create: %v", err)
	}
	if err := db.SetValidUntil(ctx, name, time.Now().Add(-time.Minute)); err != nil {
		t.Fatalf("SetValidUntil: %v", err)
	}
	if c, err := pgx.ConnectConfig(ctx, withUser(cc, name, pass)); err == nil {
		c.Close(ctx)
		t.Fatal("login accepted past VALID UNTIL")
	}
	if err := db.SetValidUntil(ctx, name, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("SetValidUntil: %v", err)
	}
	newPass := newPassword()
	if err := db.SetPassword(ctx, name, newPass); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	pgLogin(t, cc, name, newPass).Close(ctx)
	if err := db.DropRole(ctx, name); err != nil {
		t.Fatalf("DropRole: %v", err)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Fatal("session survived DropRole")
	}
	var owner string
	if err := admin.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE tablename = 'vaultsrv_owned'`).Scan(&owner); err != nil || owner != cc.User {
		t.Fatalf("owned table after DropRole: owner %q, %v", owner, err)
	}
	if err := db.DropRole(ctx, name); err != nil {
		t.Fatalf("DropRole of a dropped role: %v", err)
	}
	t.Run("server", func(t *testing.T) { testServerOnPostgres(t, cc, db) })
}

// testServerOnPostgres: creds from the API log in; revoking ends the session.
func testServerOnPostgres(t *testing.T, cc *pgx.ConnConfig, db *PostgresDB) {
	e := startServer(t, func(c *Config) {
		c.DB, c.StaticRoles = db, nil
		c.DynamicRoles = map[string]DynamicRole{"readonly": {DefaultTTL: time.Minute, GrantRoles: []string{"vaultsrv grp"}}}
	})
	c := e.client(t, testRootToken)
	s, user, pass := readCreds(t, c, "readonly")
	conn := pgLogin(t, cc, user, pass)
	if err := c.Sys().Revoke(s.LeaseID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := conn.Ping(context.Background()); err == nil {
		t.Fatal("session survived revoke")
	}
}

func withUser(cc *pgx.ConnConfig, user, password string) *pgx.ConnConfig {
	c := cc.Copy()
	c.User, c.Password = user, password
	return c
}

func pgLogin(t *testing.T, cc *pgx.ConnConfig, user, password string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.ConnectConfig(context.Background(), withUser(cc, user, password))
	if err != nil {
		t.Fatalf("login as %s: %v", user, err)
	}
	return conn
}
