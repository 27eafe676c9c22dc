package driver

import (
	"context"
	"fmt"

	"github.com/authbench/authbench/workloads"
)

// Retry protocols: what the driver does after a serialization failure.
const (
	// ProtocolFull rolls back, backs off and runs the whole transaction
	// again (PostgreSQL's default: a serialization failure aborts the
	// transaction's snapshot, only a new transaction can succeed).
	ProtocolFull = "full"
	// ProtocolSavepoint runs every attempt under SAVEPOINT
	// cockroach_restart and, after a serialization failure, rolls back to
	// it and retries inside the same transaction, as CockroachDB's clients
	// do (CockroachDB's default).
	ProtocolSavepoint = "savepoint"
)

// Protocols are the retry protocols.
var Protocols = []string{ProtocolFull, ProtocolSavepoint}

// DefaultProtocol is the retry protocol of a server: savepoint on
// CockroachDB, full on PostgreSQL.
func DefaultProtocol(cockroachDB bool) string {
	if cockroachDB {
		return ProtocolSavepoint
	}
	return ProtocolFull
}

// ProtocolNote is what a server does with protocol, when the user should
// know it: the savepoint protocol on PostgreSQL retries in vain.
func ProtocolNote(protocol string, cockroachDB bool) string {
	if protocol != ProtocolSavepoint || cockroachDB {
		return ""
	}
	return "PostgreSQL keeps a serializable transaction's snapshot after ROLLBACK TO SAVEPOINT, so a serialization failure retried inside the transaction fails again until the retries run out; the full protocol retries in a new transaction"
}

// The savepoint protocol's statements, as CockroachDB's clients send them.
const (
	sqlSavepoint         = "SAVEPOINT cockroach_restart"
	sqlRollbackSavepoint = "ROLLBACK TO SAVEPOINT cockroach_restart"
	sqlReleaseSavepoint  = "RELEASE SAVEPOINT cockroach_restart"
)

// savepointAttempt runs the op in one transaction under SAVEPOINT
// cockroach_restart: a serialization failure of the attempt or of RELEASE
// (where CockroachDB commits) is counted and backed off like a full retry,
// then rolled back to the savepoint and the attempt runs again in the same
// transaction. Any other failure, or the last retry's, ends the
// transaction; runTxn decides whether a new one is worth it.
func (rn *runner) savepointAttempt(ctx context.Context, db beginner, w workloads.Worker, tr *txnRetries) error {
	tx, err := rn.begin(ctx, db)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, sqlSavepoint); err != nil {
		_ = tx.Rollback(ctx)
		return &beginError{err}
	}
	for {
		err := w.Attempt(ctx, tx)
		if err == nil {
			_, err = tx.Exec(ctx, sqlReleaseSavepoint)
		}
		if err == nil {
			return commitFailed(tx.Commit(ctx))
		}
		if !IsRetryable(err) || tr.n >= rn.Config.MaxRetries {
			_ = tx.Rollback(ctx)
			return err
		}
		if !rn.backOff(err, tr.n, tr.rng) {
			_ = tx.Rollback(ctx)
			return errStopping
		}
		tr.n++
		if _, rerr := tx.Exec(ctx, sqlRollbackSavepoint); rerr != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("rolling back to the savepoint after %w: %w", err, rerr)
		}
	}
}
