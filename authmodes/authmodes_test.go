package authmodes

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestCallerPrepareConn(t *testing.T) {
	if CallerPrepareConn(&pgxpool.Config{}) != nil {
		t.Error("a hook without one set by the caller")
	}
	var called string
	cfg := &pgxpool.Config{
		//lint:ignore SA1019 the deprecated hook is what is tested
		BeforeAcquire: func(context.Context, *pgx.Conn) bool { called = "before-acquire"; return false },
	}
	ok, err := CallerPrepareConn(cfg)(context.Background(), nil)
	if called != "before-acquire" || ok || err != nil {
		t.Errorf("BeforeAcquire as PrepareConn: called %q, got %v %v, want false <nil>", called, ok, err)
	}
	cfg.PrepareConn = func(context.Context, *pgx.Conn) (bool, error) { called = "prepare"; return true, nil }
	ok, err = CallerPrepareConn(cfg)(context.Background(), nil)
	if called != "prepare" || !ok || err != nil {
		t.Errorf("PrepareConn takes precedence: called %q, got %v %v", called, ok, err)
	}
}
