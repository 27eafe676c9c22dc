package driver

import (
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A COMMIT that fails without an answer from the server (the connection
// dropped, the context ended) leaves the transaction's outcome unknown: the
// server may have committed it. A retry settles it (the workload's fixed
// ids make a retry of a committed transaction report ErrAlreadyApplied);
// a transaction that fails for good after such a COMMIT is counted as
// ambiguous, so that `check` accepts its effect being in the database or
// not.

// commitError is a COMMIT that failed without the server's answer.
type commitError struct{ err error }

// Error is the COMMIT's error.
func (e *commitError) Error() string { return e.err.Error() }

// Unwrap returns the COMMIT's error, which classifies the failure.
func (e *commitError) Unwrap() error { return e.err }

// commitFailed marks err, the error of a COMMIT, when its outcome is
// unknown: not an error the server sent (then it rolled back) and not
// pgx's report that the server answered ROLLBACK.
func commitFailed(err error) error {
	if err == nil { // before any errors.As target exists: it would escape, one allocation per op
		return nil
	}
	return markCommit(err)
}

func markCommit(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) || errors.Is(err, pgx.ErrTxCommitRollback) {
		return err
	}
	return &commitError{err}
}

// ambiguousError is a transaction that failed for good after a COMMIT
// whose outcome is unknown.
type ambiguousError struct{ err error }

// Error is the transaction's last error.
func (e *ambiguousError) Error() string { return e.err.Error() }

// Unwrap returns the last error, which classifies the failure.
func (e *ambiguousError) Unwrap() error { return e.err }

// settle wraps the final error of a transaction as ambiguous when one of
// its attempts ended in a COMMIT of unknown outcome.
func settle(err error, unknown bool) error {
	if err == nil || !unknown {
		return err
	}
	return &ambiguousError{err}
}

func isCommitError(err error) bool {
	var ce *commitError
	return errors.As(err, &ce)
}

func isAmbiguous(err error) bool {
	var ae *ambiguousError
	return errors.As(err, &ae)
}
