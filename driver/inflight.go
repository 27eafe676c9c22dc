package driver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A worker's statements run in a context pgx does not watch
// (context.WithoutCancel of the ops' context): for a context that can be
// cancelled pgx registers every statement with context.AfterFunc and a
// channel, which is most of its allocations per statement (a transfer in
// the app style: 44 → 19). The stop's grace then cannot end a statement
// in flight through its context, so each worker publishes the connection
// its transaction runs on, and when the grace ends endOps asks the server
// to cancel the statement and closes the connection under it: the
// worker's read or write fails at once, pgx marks the connection closed
// and the pool drops it.

// busyConns holds, per worker, the connection its transaction runs on
// (nil between transactions).
type busyConns []atomic.Pointer[pgconn.PgConn]

// cancelRequestTimeout bounds the cancel request sent to the server for
// each connection in flight when the grace ends.
const cancelRequestTimeout = 2 * time.Second

// endOps ends the ops after the stop's grace: it cancels the ops' context
// (waits on the pool, backoffs) and ends every statement still in flight.
// It returns once the cancel requests are answered or timed out.
func (rn *runner) endOps() {
	rn.cancelOps() // before the slots are read: see runPublished
	var wg sync.WaitGroup
	for i := range rn.busy {
		pc := rn.busy[i].Swap(nil) // the worker no longer releases it as it is
		if pc == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), cancelRequestTimeout)
			defer cancel()
			_ = pc.CancelRequest(ctx) // the server stops the statement too
		}()
		_ = pc.Conn().Close() // the worker's read or write fails now
	}
	wg.Wait()
}

// onConn returns attempt run on a connection worker i publishes in
// rn.busy for the attempt's length: from the pool, one acquired for the
// attempt (in the ops' context, so that a wait for a connection still
// ends at the grace) and released after it; a connection of the
// transaction's own (ConnPerTxn) as it is; anything else (tests) unchanged.
func (rn *runner) onConn(i int, attempt attemptFn) attemptFn {
	slot := &rn.busy[i]
	return func(db beginner, tr *txnRetries) error {
		var c *pgxpool.Conn
		var pc *pgconn.PgConn
		switch d := db.(type) {
		case *pgxpool.Pool:
			var err error
			if c, err = d.Acquire(rn.opCtx); err != nil {
				// counted where connections are made (the pool's instrumentation)
				return &beginError{err}
			}
			db, pc = c, c.Conn().PgConn()
		case *pgx.Conn:
			pc = d.PgConn() // closed by the transaction's release in any case
		default:
			return attempt(db, tr)
		}
		err := rn.runPublished(slot, pc, db, attempt, tr)
		if c != nil {
			c.Release() // a closed connection is dropped by the pool
		}
		return err
	}
}

// runPublished runs attempt on db with its connection pc in slot. The
// ops' context is checked after pc is published, and endOps cancels it
// before it takes the slots: either endOps takes pc or the attempt does
// not run. When endOps took pc, pc is closed before it goes back to the
// pool (endOps closes the socket only, and the worker may have finished
// meanwhile).
func (rn *runner) runPublished(slot *atomic.Pointer[pgconn.PgConn], pc *pgconn.PgConn, db beginner, attempt attemptFn, tr *txnRetries) error {
	slot.Store(pc)
	err := errStopping
	if rn.opCtx.Err() == nil {
		err = attempt(db, tr)
	}
	if !slot.CompareAndSwap(pc, nil) {
		_ = pc.Close(context.Background()) // its socket is closed or closing: bounded
	}
	return err
}
