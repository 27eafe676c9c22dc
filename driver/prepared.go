package driver

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/workloads"
)

// preparedSet is a worker's statements prepared on one connection, and
// BEGIN.
type preparedSet struct {
	sql   []string // the worker's PreparedSQL
	sds   []*pgconn.StatementDescription
	begin *pgconn.StatementDescription
}

// preparedKey is where a connection keeps its preparedSet
// (pgconn.PgConn.CustomData).
const preparedKey = "authbench.prepared"

// preparedSeq numbers the prepared statements' names: unique in the
// process, so that sets of different SQL never collide on a connection.
var preparedSeq atomic.Uint64

// preparedOn returns the statements sql prepared on pc, preparing them
// (and BEGIN) the first time.
func preparedOn(ctx context.Context, pc *pgconn.PgConn, sql []string) (*preparedSet, error) {
	if ps, ok := pc.CustomData()[preparedKey].(*preparedSet); ok && slices.Equal(ps.sql, sql) {
		return ps, nil
	}
	ps := &preparedSet{sql: sql}
	prep := func(text string) (*pgconn.StatementDescription, error) {
		return pc.Prepare(ctx, fmt.Sprintf("authbench_%d", preparedSeq.Add(1)), text, nil)
	}
	var err error
	if ps.begin, err = prep("BEGIN"); err != nil {
		return nil, err
	}
	for _, text := range sql {
		sd, err := prep(text)
		if err != nil {
			return nil, err
		}
		ps.sds = append(ps.sds, sd)
	}
	pc.CustomData()[preparedKey] = ps
	return ps, nil
}

// pgConnOf returns the connection a transaction runs on, nil when db is
// not one connection (tests' stand-ins).
func pgConnOf(db beginner) *pgconn.PgConn {
	switch d := db.(type) {
	case *pgxpool.Conn:
		return d.Conn().PgConn()
	case *pgx.Conn:
		return d.PgConn()
	}
	return nil
}

// preparedAttempt sends BEGIN and the worker's prepared statements in one
// batch through pgconn, reads the results and commits: the batchAttempt
// of a workloads.PreparedBatcher. Preparing, or BEGIN, failing means
// nothing ran: a beginError, always safe to retry. COMMIT and ROLLBACK
// go by the simple protocol, as pgx's Tx sends them (the fault proxy's
// commit dropper recognises them so).
func (rn *runner) preparedAttempt(ctx context.Context, pc *pgconn.PgConn, w workloads.PreparedBatcher, b *pgconn.Batch) error {
	ps, err := preparedOn(ctx, pc, w.PreparedSQL())
	if err != nil {
		return &beginError{err}
	}
	*b = pgconn.Batch{}
	b.ExecStatement(ps.begin, nil, nil, nil)
	w.QueuePrepared(b, ps.sds)
	mrr := pc.ExecBatch(ctx, b)
	if _, err := workloads.NextTag(mrr); err != nil {
		_ = mrr.Close()
		rollbackPrepared(ctx, pc)
		return &beginError{err}
	}
	err = w.ReadPrepared(mrr)
	if cerr := mrr.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		rollbackPrepared(ctx, pc)
		return err
	}
	tag, err := simpleExec(ctx, pc, "COMMIT")
	if err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback // as pgx's Commit says it
	}
	return commitFailed(err)
}

// simpleExec runs one statement by the simple protocol and returns its
// command tag or error.
func simpleExec(ctx context.Context, pc *pgconn.PgConn, sql string) (pgconn.CommandTag, error) {
	mrr := pc.Exec(ctx, sql)
	var tag pgconn.CommandTag
	var err error
	for mrr.NextResult() {
		tag, err = mrr.ResultReader().Close()
	}
	if cerr := mrr.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// rollbackPrepared ends the transaction an attempt left open; a
// connection where that fails is closed, so that the pool drops it.
func rollbackPrepared(ctx context.Context, pc *pgconn.PgConn) {
	if pc.TxStatus() == 'I' || pc.IsClosed() {
		return
	}
	if _, err := simpleExec(ctx, pc, "ROLLBACK"); err != nil {
		_ = pc.Close(ctx)
	}
}
