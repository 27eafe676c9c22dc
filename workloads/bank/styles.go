package bank

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/workloads"
)

// pipelinedWorker sends a transfer as one pipelined batch: record it,
// debit with a condition, credit (workloads.StylePipelined).
type pipelinedWorker struct {
	worker
	batch pgx.Batch
}

// Attempt records the transfer and moves the money, pipelined in one round
// trip. If the id is already recorded, an earlier attempt committed even
// though its COMMIT reported an error: roll back this one, it is done.
func (w *pipelinedWorker) Attempt(ctx context.Context, tx pgx.Tx) error {
	w.batch.QueuedQueries = w.batch.QueuedQueries[:0]
	w.QueueAttempt(&w.batch)
	br := tx.SendBatch(ctx, &w.batch)
	err := w.ReadAttempt(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// QueueAttempt queues the transfer: record it, debit, credit. The driver
// sends them after BEGIN in the same round trip (workloads.Batcher).
func (w *pipelinedWorker) QueueAttempt(b *pgx.Batch) {
	b.Queue(sqlRecord, w.id, w.b.runID, w.src, w.dst, w.amount)
	b.Queue(sqlDebit, w.src, w.amount)
	b.Queue(sqlCredit, w.dst, w.amount)
}

// ReadAttempt reads the three results: an id already recorded means
// ErrAlreadyApplied, a debit that found too little money an outcome.
func (w *pipelinedWorker) ReadAttempt(br pgx.BatchResults) error {
	recorded, err := br.Exec()
	if err != nil {
		return err
	}
	debited, err := br.Exec()
	if err != nil {
		return err
	}
	if _, err := br.Exec(); err != nil {
		return err
	}
	switch {
	case recorded.RowsAffected() == 0:
		return workloads.ErrAlreadyApplied
	case debited.RowsAffected() == 0:
		return errInsufficient
	}
	return nil
}

// appWorker sends a transfer as the SQLAlchemy bank application does, one
// statement per round trip (workloads.StyleApp): read the source's
// balance, decide in the client whether it suffices, write the computed
// balance, credit the destination. The transfer row goes first, so that a
// retry of a transfer that did commit stops at it, before any read.
type appWorker struct {
	worker
	balance int64
	readID  int64
}

// Attempt runs the transfer inside tx, one round trip per statement.
func (w *appWorker) Attempt(ctx context.Context, tx pgx.Tx) error {
	recorded, err := tx.Exec(ctx, sqlRecord, w.id, w.b.runID, w.src, w.dst, w.amount)
	if err != nil {
		return err
	}
	if recorded.RowsAffected() == 0 {
		return workloads.ErrAlreadyApplied
	}
	if err := tx.QueryRow(ctx, sqlReadBalance, w.src).Scan(&w.readID, &w.balance); err != nil {
		return err
	}
	if w.balance < w.amount {
		return errInsufficient
	}
	if _, err := tx.Exec(ctx, sqlSetBalance, w.balance-w.amount, w.src); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, sqlAddBalance, w.amount, w.dst)
	return err
}

// singleWorker sends a transfer as one statement (workloads.StyleSingle):
// it records the transfer only when the source has the money, and moves
// the money of the transfer it recorded.
type singleWorker struct {
	worker
	funded int64
	moved  int64
}

// Attempt runs the statement inside tx.
func (w *singleWorker) Attempt(ctx context.Context, tx pgx.Tx) error {
	return w.AttemptSingle(ctx, tx)
}

// AttemptSingle runs the statement on q: funded and two accounts moved is
// a transfer; funded and none moved, an id already recorded.
func (w *singleWorker) AttemptSingle(ctx context.Context, q workloads.Querier) error {
	err := q.QueryRow(ctx, sqlTransferOnce, w.id, w.b.runID, w.src, w.dst, w.amount).Scan(&w.funded, &w.moved)
	switch {
	case err != nil:
		return err
	case w.funded == 0:
		return errInsufficient
	case w.moved == 0:
		return workloads.ErrAlreadyApplied
	}
	return nil
}
