package driver

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// conn returns what the next transaction runs on: the pool, or with
// ConnPerTxn a connection of its own, opened now (its handshake is timed by
// the connection tracer, apart from the transaction) and closed by release.
// A failed connect is retried like a failure to begin on the pool — within
// beginRetryWindow and --max-retries, with backoff — so that a credential
// rotation's window costs a per-txn run retries, not failed transactions.
// It returns the retries it took.
func (rn *runner) conn(pool *pgxpool.Pool, rng *rand.Rand) (beginner, func(), int, error) {
	if !rn.Config.ConnPerTxn {
		if rn.testDB != nil {
			return rn.testDB, func() {}, 0, nil
		}
		return pool, func() {}, 0, nil
	}
	open := rn.openConn
	if open == nil {
		open = func(ctx context.Context) (beginner, func(), error) { return rn.openPoolConn(ctx, pool) }
	}
	var first time.Time
	for attempt := 0; ; attempt++ {
		db, release, err := open(rn.opCtx)
		if err == nil {
			return db, release, attempt, nil
		}
		err = &beginError{err} // counted as a failed connect by the pool's instrumentation
		if attempt == 0 {
			first = time.Now()
		}
		if attempt >= rn.Config.MaxRetries || !retryBegin(err, first) {
			return nil, nil, attempt, err
		}
		if !rn.backOff(err, attempt, rng) {
			return nil, nil, attempt, errStopping
		}
	}
}

// openPoolConn takes a new connection out of the pool for one transaction;
// release closes it.
func (rn *runner) openPoolConn(ctx context.Context, pool *pgxpool.Pool) (beginner, func(), error) {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	pc := c.Hijack()
	return pc, func() {
		_ = pc.Close(context.WithoutCancel(rn.opCtx))
		rn.Registry.ConnClosed()
	}, nil
}
