package driver

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authbench/authbench/workloads"
)

// attemptFunc returns how worker w runs one attempt. Under the savepoint
// retry protocol: BEGIN, SAVEPOINT cockroach_restart, the attempt (retried
// inside the transaction after a serialization failure), RELEASE, COMMIT.
// Otherwise, when w is a workloads.Single and the transaction is its one
// statement, that statement alone (one round trip); when w is a
// workloads.Batcher, one pipelined batch that begins its own transaction,
// so that BEGIN costs no round trip of its own (a transfer takes two round
// trips instead of three), sent straight through pgconn as statements
// prepared once per connection when w is a workloads.PreparedBatcher
// (preparedAttempt); otherwise Begin, Attempt, Commit. Its
// statements run in ctx, the worker's own (see worker).
func (rn *runner) attemptFunc(ctx context.Context, w workloads.Worker) attemptFn {
	if rn.Config.RetryProtocol == ProtocolSavepoint {
		return func(db beginner, tr *txnRetries) error { return rn.savepointAttempt(ctx, db, w, tr) }
	}
	if sw, ok := w.(workloads.Single); ok {
		return func(db beginner, _ *txnRetries) error { return commitFailed(sw.AttemptSingle(ctx, db)) }
	}
	if pw, ok := w.(workloads.PreparedBatcher); ok {
		b := new(pgconn.Batch) // its buffer is pgconn's; the worker's arguments are encoded in place
		return func(db beginner, _ *txnRetries) error {
			if pc := pgConnOf(db); pc != nil {
				return rn.preparedAttempt(ctx, pc, pw, b)
			}
			return rn.attempt(ctx, db, w)
		}
	}
	if bw, ok := w.(workloads.Batcher); ok {
		b := new(pgx.Batch) // reused by every attempt of this worker
		return func(db beginner, _ *txnRetries) error { return rn.batchAttempt(ctx, db, bw, b) }
	}
	return func(db beginner, _ *txnRetries) error { return rn.attempt(ctx, db, w) }
}

// batchAttempt sends BEGIN and the worker's queries in one batch, reads
// the results and commits. A failed BEGIN (or no connection) means nothing
// ran: it is a beginError, always safe to retry. Rolling back also hands
// a pooled connection back when BEGIN failed.
func (rn *runner) batchAttempt(ctx context.Context, db beginner, w workloads.Batcher, b *pgx.Batch) error {
	*b = pgx.Batch{QueuedQueries: b.QueuedQueries[:0]}
	b.BeginTx(pgx.TxOptions{})
	w.QueueAttempt(b)
	br := db.SendBatch(ctx, b)
	tx := br.Tx()
	if _, err := br.Exec(); err != nil {
		br.Close()
		_ = tx.Rollback(ctx)
		return &beginError{err}
	}
	err := w.ReadAttempt(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return commitFailed(tx.Commit(ctx))
}
