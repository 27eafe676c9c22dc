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
	batch                         pgx.Batch
	recordArgs, debitArgs, credit []any
}

func newPipelinedWorker(t worker) *pipelinedWorker {
	w := &pipelinedWorker{worker: t}
	w.recordArgs = w.args("id", "run_id", "src", "dst", "amount")
	w.debitArgs, w.credit = w.args("src", "amount"), w.args("dst", "amount")
	return w
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
	b.Queue(sqlRecord, w.recordArgs...)
	b.Queue(sqlDebit, w.debitArgs...)
	b.Queue(sqlCredit, w.credit...)
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
	balance, readID, newBalance    int64
	recordArgs, readArgs, readDest []any
	setArgs, addArgs               []any
}

func newAppWorker(t worker) *appWorker {
	w := &appWorker{worker: t}
	w.recordArgs, w.readArgs = w.args("id", "run_id", "src", "dst", "amount"), w.args("src")
	w.readDest = []any{&w.readID, &w.balance}
	w.setArgs, w.addArgs = []any{workloads.Int8(&w.newBalance), workloads.Int8(&w.src)}, w.args("amount", "dst")
	return w
}

// Attempt runs the transfer inside tx, one round trip per statement.
func (w *appWorker) Attempt(ctx context.Context, tx pgx.Tx) error {
	recorded, err := tx.Exec(ctx, sqlRecord, w.recordArgs...)
	if err != nil {
		return err
	}
	if recorded.RowsAffected() == 0 {
		return workloads.ErrAlreadyApplied
	}
	if err := tx.QueryRow(ctx, sqlReadBalance, w.readArgs...).Scan(w.readDest...); err != nil {
		return err
	}
	if w.balance < w.amount {
		return errInsufficient
	}
	w.newBalance = w.balance - w.amount
	if _, err := tx.Exec(ctx, sqlSetBalance, w.setArgs...); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, sqlAddBalance, w.addArgs...)
	return err
}

// singleWorker sends a transfer as one statement (workloads.StyleSingle):
// it records the transfer only when the source has the money, and moves
// the money of the transfer it recorded.
type singleWorker struct {
	worker
	funded, moved int64
	args, dest    []any
}

func newSingleWorker(t worker) *singleWorker {
	w := &singleWorker{worker: t}
	w.args = w.worker.args("id", "run_id", "src", "dst", "amount")
	w.dest = []any{&w.funded, &w.moved}
	return w
}

// Attempt runs the statement inside tx.
func (w *singleWorker) Attempt(ctx context.Context, tx pgx.Tx) error {
	return w.AttemptSingle(ctx, tx)
}

// AttemptSingle runs the statement on q: funded and two accounts moved is
// a transfer; funded and none moved, an id already recorded.
func (w *singleWorker) AttemptSingle(ctx context.Context, q workloads.Querier) error {
	err := q.QueryRow(ctx, sqlTransferOnce, w.args...).Scan(w.dest...)
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
