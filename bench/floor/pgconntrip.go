package floor

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// binaryFormat asks for every parameter and result column in binary.
var binaryFormat = []int16{1}

// pgconnTrip sends a round trip through pgconn: ExecStatement for a trip
// of one statement, ExecBatch for more, every statement prepared once,
// its parameters the client's slot buffers, and context.Background, which
// pgconn does not watch.
type pgconnTrip struct {
	conn   *pgconn.PgConn
	plan   *plan
	sds    []*pgconn.StatementDescription // by statement
	params [][][]byte                     // by statement: its slots
	batch  pgconn.Batch
}

// prepare prepares the plan's statements on conn.
func prepare(ctx context.Context, conn *pgconn.PgConn, p *plan) ([]*pgconn.StatementDescription, error) {
	sds := make([]*pgconn.StatementDescription, len(p.stmts))
	for i, s := range p.stmts {
		sd, err := conn.Prepare(ctx, s.name, s.sql, s.oids())
		if err != nil {
			return nil, err
		}
		sds[i] = sd
	}
	return sds, nil
}

func newPgconnTrip(ctx context.Context, conn *pgconn.PgConn, p *plan, args *slotBuf) (*pgconnTrip, error) {
	sds, err := prepare(ctx, conn, p)
	if err != nil {
		return nil, err
	}
	t := &pgconnTrip{conn: conn, plan: p, sds: sds, params: make([][][]byte, len(p.stmts))}
	for i, s := range p.stmts {
		for _, sl := range s.slots {
			t.params[i] = append(t.params[i], args.slots[sl])
		}
	}
	return t, nil
}

func (t *pgconnTrip) roundTrip(trip int, r *reply) error {
	*r = reply{}
	ids := t.plan.trips[trip]
	var err error
	if len(ids) == 1 {
		rr := t.conn.ExecStatement(context.Background(), t.sds[ids[0]], t.params[ids[0]], binaryFormat, binaryFormat)
		readRows(rr, r)
		_, err = rr.Close()
	} else {
		t.batch = pgconn.Batch{}
		for _, id := range ids {
			t.batch.ExecStatement(t.sds[id], t.params[id], binaryFormat, binaryFormat)
		}
		mrr := t.conn.ExecBatch(context.Background(), &t.batch)
		for mrr.NextResult() {
			rr := mrr.ResultReader()
			readRows(rr, r)
			_, _ = rr.Close()
		}
		err = mrr.Close()
	}
	r.txStatus = t.conn.TxStatus()
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		r.sqlState = pgErr.Code
		return nil
	}
	return err
}

// readRows keeps the first row's first two INT8 columns.
func readRows(rr *pgconn.ResultReader, r *reply) {
	for rr.NextRow() {
		if r.hasRow {
			continue
		}
		r.hasRow = true
		for i, v := range rr.Values() {
			if i < len(r.row) && len(v) == 8 {
				r.row[i] = int64(binary.BigEndian.Uint64(v))
			}
		}
	}
}

func (t *pgconnTrip) close() error { return t.conn.Close(context.Background()) }
