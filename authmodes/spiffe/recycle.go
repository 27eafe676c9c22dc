package spiffe

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
)

// tracker remembers which SVID each pooled connection presented and
// retires those that presented an older one: after a rotation each gets a
// deadline drawn from [0, jitter), and the pool refuses it (PrepareConn)
// the first time it is acquired after that.
type tracker struct {
	jitter time.Duration
	event  func(kind, detail string, rotation bool)

	mu    sync.Mutex
	rng   *rand.Rand
	conns map[*pgconn.PgConn]*tracked
}

// tracked is one pooled connection.
type tracked struct {
	serial    string    // of the SVID it presented
	rotatedAt time.Time // when a newer SVID arrived; zero while current
	retireAt  time.Time
}

func newTracker(jitter time.Duration, event func(kind, detail string, rotation bool)) *tracker {
	seed := uint64(time.Now().UnixNano())
	return &tracker{
		jitter: jitter, event: event,
		rng:   rand.New(rand.NewPCG(seed, seed>>1|1)),
		conns: map[*pgconn.PgConn]*tracked{},
	}
}

// install refuses retired connections in PrepareConn (wrapping the
// caller's PrepareConn or BeforeAcquire) and forgets closed ones.
func (t *tracker) install(cfg *pgxpool.Config) {
	prepare := authmodes.CallerPrepareConn(cfg)
	cfg.PrepareConn = func(ctx context.Context, c *pgx.Conn) (bool, error) {
		if !t.keep(c.PgConn(), time.Now()) {
			return false, nil // destroyed; the acquire goes on with another connection
		}
		if prepare != nil {
			return prepare(ctx, c)
		}
		return true, nil
	}
	closeHook := cfg.BeforeClose
	cfg.BeforeClose = func(c *pgx.Conn) {
		t.forget(c.PgConn())
		if closeHook != nil {
			closeHook(c)
		}
	}
}

// watch makes the connection configured by c register itself, with the
// serial it presented, once it is authenticated.
func (t *tracker) watch(c *pgconn.Config, serial string) {
	validate := c.ValidateConnect
	c.ValidateConnect = func(ctx context.Context, pc *pgconn.PgConn) error {
		if validate != nil {
			if err := validate(ctx, pc); err != nil {
				return err
			}
		}
		t.mu.Lock()
		t.conns[pc] = &tracked{serial: serial}
		t.mu.Unlock()
		return nil
	}
}

// rotated gives every connection that presented another serial than the
// new one a retirement deadline, and drops closed connections.
func (t *tracker) rotated(serial string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for pc, tr := range t.conns {
		switch {
		case pc.IsClosed():
			delete(t.conns, pc)
		case tr.serial != serial && tr.rotatedAt.IsZero():
			tr.rotatedAt = now
			tr.retireAt = now.Add(time.Duration(t.rng.Int64N(int64(t.jitter) + 1)))
		}
	}
}

// keep reports whether pc may be handed out; a connection past its
// retirement deadline is forgotten and reported.
func (t *tracker) keep(pc *pgconn.PgConn, now time.Time) bool {
	t.mu.Lock()
	tr := t.conns[pc]
	if tr == nil || tr.retireAt.IsZero() || now.Before(tr.retireAt) {
		t.mu.Unlock()
		return true
	}
	delete(t.conns, pc)
	t.mu.Unlock()
	t.event("retire", fmt.Sprintf("closed connection pid=%d that presented serial=%s, %s after the rotation",
		pc.PID(), tr.serial, now.Sub(tr.rotatedAt).Round(time.Millisecond)), false)
	return false
}

// forget drops a closed connection.
func (t *tracker) forget(pc *pgconn.PgConn) {
	t.mu.Lock()
	delete(t.conns, pc)
	t.mu.Unlock()
}
