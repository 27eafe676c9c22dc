package driver

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

// worker runs ops until the stop. Worker i starts at i/Concurrency of the
// ramp; in an open loop each op has an intended start time and latency
// counts from it.
func (rn *runner) worker(i int) {
	cfg := &rn.Config
	step := rn.stepper(i)
	rec := rn.Registry.NewRecorder()
	begin := rn.start.Add(cfg.Ramp * time.Duration(i) / time.Duration(cfg.Concurrency))
	if !rn.sleepUntil(begin) {
		return
	}
	var interval time.Duration
	next := begin
	if cfg.MaxRate > 0 {
		interval = time.Duration(float64(cfg.Concurrency) / cfg.MaxRate * float64(time.Second))
	}
	for !rn.stopped() {
		if cfg.MaxOps > 0 && rn.issued.Add(1) > cfg.MaxOps {
			rn.stop("max-ops", nil)
			return
		}
		var intended time.Time // zero in a closed loop: latency = service time
		if interval > 0 {
			if !rn.sleepUntil(next) {
				return
			}
			intended, next = next, next.Add(interval)
		}
		op, began, retries, err := step()
		end := time.Now()
		if intended.IsZero() {
			intended = began
		}
		if !rn.record(rec, op, end.Sub(intended), end.Sub(began), retries, err) {
			return
		}
	}
}

// stepper returns worker i's unit of work: one transaction of the workload
// (with its retries), or with ConnectOnly one connection opened and closed.
// It returns the op, when its timed part began, the retries and the error.
func (rn *runner) stepper(i int) func() (int, time.Time, int, error) {
	cfg := &rn.Config
	if cfg.ConnectOnly {
		return func() (int, time.Time, int, error) {
			began := time.Now()
			return 0, began, 0, rn.connectOnce()
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed+uint64(i), 0x9e3779b97f4a7c15))
	// Backoff jitter draws from its own stream, so that retry timing never
	// shifts the workload's sequence of ops for a given seed.
	jitter := rand.New(rand.NewPCG(cfg.Seed+uint64(i), 0x2545f4914f6cdd1d))
	w := rn.Workload.NewWorker(rng)
	return func() (int, time.Time, int, error) {
		op := w.Next()
		db, release, err := rn.conn()
		if err != nil {
			return op, time.Now(), 0, err
		}
		defer release()
		began := time.Now() // a per-txn connect is timed apart, as a handshake
		retries, err := rn.runTxn(db, w, jitter)
		return op, began, retries, err
	}
}

// connectOnce opens one connection through the pool's hooks (so every
// handshake phase is recorded) and closes it.
func (rn *runner) connectOnce() error {
	c, err := rn.DB.Acquire(rn.opCtx)
	if err != nil {
		rn.noteConnectError(err)
		return err
	}
	pc := c.Hijack()
	rn.Registry.ConnClosed()
	return pc.Close(context.WithoutCancel(rn.opCtx))
}

// record counts one finished op and reports whether the worker goes on.
func (rn *runner) record(rec *results.Recorder, op int, latency, service time.Duration, retries int, err error) bool {
	var outcome *workloads.Outcome
	switch {
	case err == nil:
		rec.Record(op, latency, service, retries, results.ClassNone)
		return true
	case errors.As(err, &outcome):
		rec.Outcome(op, outcome.Name, retries)
		return true
	case rn.stopped() && (errors.Is(err, errStopping) || rn.opCtx.Err() != nil):
		return false // abandoned at the stop: neither success nor failure
	}
	rec.Record(op, latency, service, retries, Classify(err))
	if !rn.Config.TolerateErrors {
		rn.stop("error", err)
		return false
	}
	return true
}

// runTxn runs the op chosen by Next until it commits, fails for good or runs
// out of retries; it returns the number of retries.
func (rn *runner) runTxn(db beginner, w workloads.Worker, rng *rand.Rand) (int, error) {
	for attempt := 0; ; attempt++ {
		err := rn.attempt(db, w)
		if err == nil || errors.Is(err, workloads.ErrAlreadyApplied) {
			return attempt, nil
		}
		var outcome *workloads.Outcome
		if errors.As(err, &outcome) || attempt >= rn.Config.MaxRetries || !shouldRetry(err) && !retryBegin(err, attempt) {
			return attempt, err
		}
		timer := time.NewTimer(Backoff(attempt, rng))
		select {
		case <-timer.C:
		case <-rn.opCtx.Done():
			timer.Stop()
			return attempt, errStopping
		}
	}
}

// attempt runs one attempt of the op in its own transaction.
func (rn *runner) attempt(db beginner, w workloads.Worker) error {
	ctx := rn.opCtx
	tx, err := db.Begin(ctx)
	if err != nil {
		rn.noteConnectError(err)
		return &beginError{err}
	}
	if err := w.Attempt(ctx, tx); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

// conn returns what the next transaction runs on: the pool, or with
// ConnPerTxn a connection of its own, opened now (its handshake is timed by
// the connection tracer, apart from the transaction) and closed by release.
func (rn *runner) conn() (beginner, func(), error) {
	if !rn.Config.ConnPerTxn {
		return rn.DB, func() {}, nil
	}
	c, err := rn.DB.Acquire(rn.opCtx)
	if err != nil {
		rn.noteConnectError(err)
		return nil, nil, err
	}
	pc := c.Hijack()
	return pc, func() {
		_ = pc.Close(context.WithoutCancel(rn.opCtx))
		rn.Registry.ConnClosed()
	}, nil
}

// beginError is a failure to get a connection or start a transaction:
// nothing ran, so the attempt is always safe to retry — including an auth
// failure while credentials rotate (the old password is gone, the new file
// not yet read).
type beginError struct{ err error }

func (e *beginError) Error() string { return e.err.Error() }
func (e *beginError) Unwrap() error { return e.err }

// beginRetries bounds the retries of an auth failure at begin: enough for a
// rotation's window, short enough that revoked credentials soon show as
// errors rather than as stalled ops.
const beginRetries = 5

// retryBegin reports whether a failure to begin may be retried once more.
func retryBegin(err error, attempt int) bool {
	return isBeginError(err) && attempt < beginRetries
}

func isBeginError(err error) bool {
	var be *beginError
	return errors.As(err, &be)
}

// noteConnectError counts a failed connection attempt (pgx wraps every
// failure to establish a connection in a *pgconn.ConnectError).
func (rn *runner) noteConnectError(err error) {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		rn.Registry.ConnFailed()
	}
}
