package driver

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

// worker runs ops until the stop. Worker i starts at i/Concurrency of the
// ramp; in an open loop each op has an intended start time and latency
// counts from it.
func (rn *runner) worker(i int) {
	cfg := &rn.Config
	// The worker's statements run in a context pgx does not watch; the
	// grace's end stops them by closing their connection (see endOps).
	ctx := context.WithoutCancel(rn.opCtx)
	step := rn.stepper(ctx, i)
	rec := rn.Registry.NewRecorder()
	begin := rn.start.Add(cfg.Ramp * time.Duration(i) / time.Duration(cfg.Concurrency))
	if !rn.sleepUntil(begin) {
		return
	}
	var interval time.Duration
	if cfg.MaxRate > 0 {
		interval = time.Duration(float64(cfg.Concurrency) / cfg.MaxRate * float64(time.Second))
	}
	next := rn.firstSlot(i, begin, interval)
	timer := time.NewTimer(time.Hour) // reused by every wait of the open loop
	timer.Stop()
	for !rn.stopped() {
		if cfg.MaxOps > 0 && rn.issued.Add(1) > cfg.MaxOps {
			rn.stop("max-ops", nil)
			return
		}
		var intended time.Time // zero in a closed loop: latency = service time
		if interval > 0 {
			if !rn.waitUntil(timer, next) {
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

// firstSlot returns worker i's first intended start at or after begin in
// an open loop. The workers' schedules are offset by interval/Concurrency
// from each other, so that together they start an op every 1/MaxRate: in
// step, all of them would start one at once every interval, and those
// bursts queue in the database (service time tripled at 500 ops/s over
// 8 workers).
func (rn *runner) firstSlot(i int, begin time.Time, interval time.Duration) time.Time {
	if interval <= 0 {
		return begin
	}
	slot := rn.start.Add(interval * time.Duration(i) / time.Duration(rn.Config.Concurrency))
	if late := begin.Sub(slot); late > 0 {
		slot = slot.Add((late + interval - 1) / interval * interval)
	}
	return slot
}

// stepper returns worker i's unit of work: one transaction of the workload
// (with its retries), or with ConnectOnly one connection opened and closed.
// It returns the op, when its timed part began, the retries and the error.
func (rn *runner) stepper(ctx context.Context, i int) func() (int, time.Time, int, error) {
	cfg := &rn.Config
	pool := rn.poolOf(i)
	if cfg.ConnectOnly {
		return func() (int, time.Time, int, error) {
			began := time.Now()
			return 0, began, 0, rn.connectOnce(pool)
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed+uint64(i), 0x9e3779b97f4a7c15))
	// Backoff jitter draws from its own stream, so that retry timing never
	// shifts the workload's sequence of ops for a given seed.
	jitter := rand.New(rand.NewPCG(cfg.Seed+uint64(i), 0x2545f4914f6cdd1d))
	w := rn.Workload.NewWorker(rng)
	attempt := rn.onConn(i, rn.attemptFunc(ctx, w))
	tr := &txnRetries{rng: jitter}
	return func() (int, time.Time, int, error) {
		op := w.Next()
		db, release, connRetries, err := rn.conn(pool, jitter)
		if err != nil {
			return op, time.Now(), connRetries, err
		}
		defer release()
		began := time.Now() // a per-txn connect is timed apart, as a handshake
		retries, err := rn.runTxn(db, attempt, tr)
		return op, began, connRetries + retries, err
	}
}

// connectOnce opens one connection through the pool's hooks (so every
// handshake phase is recorded) and closes it.
func (rn *runner) connectOnce(pool *pgxpool.Pool) error {
	c, err := pool.Acquire(rn.opCtx)
	if err != nil {
		return err // a failed connect is counted by the pool's instrumentation
	}
	pc := c.Hijack()
	rn.Registry.ConnClosed()
	return pc.Close(context.WithoutCancel(rn.opCtx))
}

// record counts one finished op and reports whether the worker goes on.
func (rn *runner) record(rec *results.Recorder, op int, latency, service time.Duration, retries int, err error) bool {
	if err == nil { // before any errors.As target exists: that would escape, one allocation per op
		rec.Record(op, latency, service, retries, results.ClassNone)
		return true
	}
	var outcome *workloads.Outcome
	switch {
	case errors.As(err, &outcome):
		rec.Outcome(op, outcome.Name, retries)
		return true
	case rn.stopped() && (errors.Is(err, errStopping) || rn.opCtx.Err() != nil):
		if isAmbiguous(err) {
			rec.Ambiguous(op) // abandoned at the stop, but its COMMIT may have landed
		}
		return false // abandoned at the stop: neither success nor failure
	}
	rec.Record(op, latency, service, retries, Classify(err))
	if isAmbiguous(err) {
		rec.Ambiguous(op)
	}
	if !rn.Config.TolerateErrors {
		rn.stop("error", err)
		return false
	}
	return true
}

// runTxn runs the op chosen by Next until it commits, fails for good or runs
// out of retries; it returns the number of retries, which the savepoint
// protocol's retries inside the transaction add to. A failure after a
// COMMIT of unknown outcome comes back as an ambiguousError.
//
// tr is the worker's, reused by every transaction (a fresh one handed to
// the attempt function would be allocated on every op); runTxn zeroes its
// count.
func (rn *runner) runTxn(db beginner, attemptOnce attemptFn, tr *txnRetries) (int, error) {
	unknown := false
	var beginFailed time.Time // the transaction's first failure to begin
	tr.n = 0
	for {
		err := attemptOnce(db, tr)
		if err == nil || errors.Is(err, workloads.ErrAlreadyApplied) {
			return tr.n, nil
		}
		unknown = unknown || isCommitError(err)
		var outcome *workloads.Outcome
		if errors.As(err, &outcome) {
			return tr.n, err // the workload saw its effect was not applied
		}
		if beginFailed.IsZero() && isBeginError(err) {
			beginFailed = time.Now()
		}
		if tr.n >= rn.Config.MaxRetries || !shouldRetry(err) && !retryBegin(err, beginFailed) {
			return tr.n, settle(err, unknown)
		}
		if !rn.backOff(err, tr.n, tr.rng) {
			return tr.n, settle(errStopping, unknown)
		}
		tr.n++
	}
}

// txnRetries counts one transaction's retries, whichever protocol takes
// them: a full retry (runTxn) or one inside the transaction (savepoint).
type txnRetries struct {
	n   int
	rng *rand.Rand // the backoff's jitter
}

// attemptFn runs one attempt of the op on db; the savepoint protocol
// retries inside it and counts those retries in tr.
type attemptFn func(db beginner, tr *txnRetries) error

// backOff counts a failed attempt that will be retried (a fault the
// retries absorb is still seen) and waits out its backoff; false when the
// run stopped meanwhile.
func (rn *runner) backOff(err error, attempt int, rng *rand.Rand) bool {
	rn.Registry.AttemptFailed(Classify(err))
	timer := time.NewTimer(Backoff(attempt, rng))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-rn.opCtx.Done():
		return false
	}
}

// attempt runs one attempt of the op in its own transaction.
func (rn *runner) attempt(ctx context.Context, db beginner, w workloads.Worker) error {
	tx, err := rn.begin(ctx, db)
	if err != nil {
		return err
	}
	if err := w.Attempt(ctx, tx); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return commitFailed(tx.Commit(ctx))
}

// begin starts a transaction on db; a failure is a beginError.
func (rn *runner) begin(ctx context.Context, db beginner) (pgx.Tx, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, &beginError{err} // a failed connect is counted by the pool's instrumentation
	}
	return tx, nil
}

// beginError is a failure to get a connection or start a transaction:
// nothing ran, so the attempt is always safe to retry — including an auth
// failure while credentials rotate (the old password is gone, the new file
// not yet read).
type beginError struct{ err error }

func (e *beginError) Error() string { return e.err.Error() }
func (e *beginError) Unwrap() error { return e.err }

// beginRetryWindow bounds, in time since a transaction's first failure to
// begin, the retries of an auth failure at begin (with the usual backoff,
// within --max-retries, and ending at the stop): long enough for a
// rotation's window on a slow or busy machine (a new password set but its
// file not yet written, a certificate file half replaced), short enough
// that revoked credentials soon show as errors rather than as stalled ops.
// A variable so that tests can change it.
var beginRetryWindow = 2 * time.Second

// retryBegin reports whether a failure to begin may be retried once more,
// given when the transaction first failed to begin.
func retryBegin(err error, firstFailed time.Time) bool {
	return isBeginError(err) && time.Since(firstFailed) < beginRetryWindow
}

func isBeginError(err error) bool {
	var be *beginError
	return errors.As(err, &be)
}
