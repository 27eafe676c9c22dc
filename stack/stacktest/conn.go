package stacktest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/stack"
)

// LBConnString is a verify-full connection string for user through HAProxy,
// with extra key, value pairs kv.
func LBConnString(st *stack.State, user string, kv ...string) string {
	base := []string{
		"host", st.LBHost, "port", strconv.Itoa(st.LBPort), "dbname", st.Database,
		"user", user, "sslmode", "verify-full", "sslrootcert", st.CAFile, "connect_timeout", "10",
	}
	return stack.ConnString(append(base, kv...)...)
}

// CertConnString is LBConnString for user logging in with the client
// certificate the stack issued it.
func CertConnString(st *stack.State, user string, kv ...string) string {
	crt, key := st.ClientCertFiles(user)
	return LBConnString(st, user, append([]string{"sslcert", crt, "sslkey", key}, kv...)...)
}

// Connect connects with connString; the connection is closed when the
// test ends.
func Connect(t testing.TB, connString string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatalf("connect through haproxy: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// QueryString runs sql, which returns one text value, and returns it.
func QueryString(t testing.TB, conn *pgx.Conn, sql string) string {
	t.Helper()
	var v string
	if err := conn.QueryRow(context.Background(), sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// AssertSession checks that conn is user's TLS session with the stack's
// serializable default.
func AssertSession(t testing.TB, conn *pgx.Conn, user string) {
	t.Helper()
	if got := QueryString(t, conn, "SELECT current_user::text"); got != user {
		t.Errorf("current_user %q, want %q", got, user)
	}
	if got := QueryString(t, conn, "SHOW default_transaction_isolation"); got != "serializable" {
		t.Errorf("default_transaction_isolation %q, want serializable", got)
	}
	if got := QueryString(t, conn, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"); got != "true" {
		t.Errorf("pg_stat_ssl.ssl %q, want true", got)
	}
}
