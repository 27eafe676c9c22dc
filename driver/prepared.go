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
// the transaction's own.
type preparedSet struct {
	sql                     []string // the worker's PreparedSQL
	sds                     []*pgconn.StatementDescription
	begin, commit, rollback *pgconn.StatementDescription
}

// preparedKey is where a connection keeps its preparedSet
// (pgconn.PgConn.CustomData).
const preparedKey = "authbench.prepared"

// preparedSeq numbers the prepared statements' names: unique in the
// process, so that sets of different SQL never collide on a connection.
var preparedSeq atomic.Uint64

// preparedOn returns the statements sql prepared on pc, preparing them
// (and BEGIN, COMMIT, ROLLBACK) the first time.
func preparedOn(ctx context.Context, pc *pgconn.PgConn, sql []string) (*preparedSet, error) {
	if ps, ok := pc.CustomData()[preparedKey].(*preparedSet); ok && slices.Equal(ps.sql, sql) {
		return ps, nil
	}
	ps := &preparedSet{sql: sql}
	prep := func(text string) (*pgconn.StatementDescription, error) {
		return pc.Prepare(ctx, fmt.Sprintf("authbench_%d", preparedSeq.Add(1)), text, nil)
	}
	var err error
	for _, p := range []struct {
		sd   **pgconn.StatementDescription
		text string
	}{{&ps.begin, "BEGIN"}, {&ps.commit, "COMMIT"}, {&ps.rollback, "ROLLBACK"}} {
		if *p.sd, err = prep(p.text); err != nil {
			return nil, err
		}
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
// batch through pgconn, reads the results and commits with a prepared
// COMMIT: the batchAttempt of a workloads.PreparedBatcher. Preparing, or
// BEGIN, failing means nothing ran: a beginError, always safe to retry.
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
		rn.rollbackPrepared(ctx, pc, ps)
		return &beginError{err}
	}
	err = w.ReadPrepared(mrr)
	if cerr := mrr.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		rn.rollbackPrepared(ctx, pc, ps)
		return err
	}
	tag, err := pc.ExecStatement(ctx, ps.commit, nil, nil, nil).Close()
	if err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback // as pgx's Commit says it
	}
	return commitFailed(err)
}

// rollbackPrepared ends the transaction an attempt left open; a
// connection where that fails is closed, so that the pool drops it.
func (rn *runner) rollbackPrepared(ctx context.Context, pc *pgconn.PgConn, ps *preparedSet) {
	if pc.TxStatus() == 'I' || pc.IsClosed() {
		return
	}
	if _, err := pc.ExecStatement(ctx, ps.rollback, nil, nil, nil).Close(); err != nil {
		_ = pc.Close(ctx)
	}
}
