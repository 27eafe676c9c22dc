package stacktest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/stack"
)

// WithStatementStats is a Start option that loads pg_stat_statements into
// the stack's PostgreSQL, so that a test can see which statements the
// server ran (StatementStats).
func WithStatementStats(c *stack.Config) {
	c.ExtraPGConf = append(c.ExtraPGConf, "shared_preload_libraries = 'pg_stat_statements'", "pg_stat_statements.track_utility = on")
}

// Statements reads the server's statement statistics over a superuser
// connection.
type Statements struct{ conn *pgx.Conn }

// StatementStats creates the pg_stat_statements extension in a stack
// started WithStatementStats and returns its reader.
func StatementStats(t testing.TB, st *stack.State) *Statements {
	t.Helper()
	conn := Admin(t, st)
	if _, err := conn.Exec(context.Background(), `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		t.Fatalf("pg_stat_statements (start the stack WithStatementStats): %v", err)
	}
	return &Statements{conn: conn}
}

// Reset forgets every statement counted so far.
func (s *Statements) Reset(t testing.TB) {
	t.Helper()
	if _, err := s.conn.Exec(context.Background(), `SELECT pg_stat_statements_reset()`); err != nil {
		t.Fatal(err)
	}
}

// Calls returns how many times the server ran each statement since the
// last Reset, by its text as the client sent it.
func (s *Statements) Calls(t testing.TB) map[string]int64 {
	t.Helper()
	rows, err := s.conn.Query(context.Background(), `SELECT query, sum(calls)::int8 FROM pg_stat_statements GROUP BY query`)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int64{}
	var q string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&q, &n}, func() error { calls[q] += n; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return calls
}
