package stacktest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/stack"
)

// Admin connects to the stack's PostgreSQL directly as its superuser; the
// connection is closed when the test ends.
func Admin(t testing.TB, st *stack.State) *pgx.Conn {
	t.Helper()
	cfg, err := st.AdminConnConfig()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
