package bank

import (
	"context"
	"encoding/binary"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authbench/authbench/workloads"
)

// pipelinedWorker sends a transfer as one pipelined batch: record it,
// debit with a condition, credit (workloads.StylePipelined). Through pgx
// (Attempt, QueueAttempt) its arguments read the worker's fields; through
// pgconn (workloads.PreparedBatcher) they are the binary encodings in
// enc, written once per transfer, and params point into them.
type pipelinedWorker struct {
	worker
	batch                         pgx.Batch
	recordArgs, debitArgs, credit []any
	enc                           [3][8]byte // src, dst, amount as INT8s
	recordParams, debitParams     [][]byte
	creditParams                  [][]byte
}

func newPipelinedWorker(t worker) *pipelinedWorker {
	w := &pipelinedWorker{worker: t}
	w.recordArgs = w.args("id", "run_id", "src", "dst", "amount")
	w.debitArgs, w.credit = w.args("src", "amount"), w.args("dst", "amount")
	src, dst, amount := w.enc[0][:], w.enc[1][:], w.enc[2][:]
	w.recordParams = [][]byte{w.id[:], w.b.runID[:], src, dst, amount}
	w.debitParams, w.creditParams = [][]byte{src, amount}, [][]byte{dst, amount}
	return w
}

// pipelinedSQL are the statements the pipelined style prepares.
var pipelinedSQL = []string{sqlRecord, sqlDebit, sqlCredit}

// PreparedSQL returns the transfer's statements (workloads.PreparedBatcher).
func (w *pipelinedWorker) PreparedSQL() []string { return pipelinedSQL }

// QueuePrepared encodes the transfer's values once and queues record,
// debit and credit, prepared as PreparedSQL.
func (w *pipelinedWorker) QueuePrepared(b *pgconn.Batch, sds []*pgconn.StatementDescription) {
	binary.BigEndian.PutUint64(w.enc[0][:], uint64(w.src))
	binary.BigEndian.PutUint64(w.enc[1][:], uint64(w.dst))
	binary.BigEndian.PutUint64(w.enc[2][:], uint64(w.amount))
	b.ExecStatement(sds[0], w.recordParams, workloads.BinaryFormat, nil)
	b.ExecStatement(sds[1], w.debitParams, workloads.BinaryFormat, nil)
	b.ExecStatement(sds[2], w.creditParams, workloads.BinaryFormat, nil)
}

// ReadPrepared reads the three results, as ReadAttempt.
func (w *pipelinedWorker) ReadPrepared(mrr *pgconn.MultiResultReader) error {
	recorded, err := workloads.NextTag(mrr)
	if err != nil {
		return err
	}
	debited, err := workloads.NextTag(mrr)
	if err != nil {
		return err
	}
	if _, err := workloads.NextTag(mrr); err != nil {
		return err
	}
	return w.outcome(recorded, debited)
}

// outcome is what a recorded transfer and its debit say: an id already
// recorded means ErrAlreadyApplied, a debit that found too little money
// an outcome.
func (w *pipelinedWorker) outcome(recorded, debited pgconn.CommandTag) error {
	switch {
	case recorded.RowsAffected() == 0:
		return workloads.ErrAlreadyApplied
	case debited.RowsAffected() == 0:
		return errInsufficient
	}
	return nil
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
	return w.outcome(recorded, debited)
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
