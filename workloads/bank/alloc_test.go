package bank

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authbench/authbench/workloads"
)

// fakeTx answers every statement at once, as a server would a transfer
// that succeeds, reading every argument as pgx would encode it; it
// allocates nothing, so that AllocsPerRun counts the workload's own
// allocations. Methods it does not have panic (nil pgx.Tx).
type fakeTx struct {
	pgx.Tx
	row fakeRow
}

var (
	tagOne  = pgconn.NewCommandTag("UPDATE 1")
	tagTwo  = pgconn.NewCommandTag("UPDATE 2")
	scratch int64
)

func readArgs(args []any) {
	for _, a := range args {
		switch v := a.(type) {
		case pgtype.Int64Valuer:
			n, _ := v.Int64Value()
			scratch += n.Int64
		case pgtype.UUIDValuer:
			u, _ := v.UUIDValue()
			scratch += int64(u.Bytes[0])
		default:
			panic("an argument pgx would box or dereference through reflect")
		}
	}
}

func (f *fakeTx) Exec(_ context.Context, _ string, args ...any) (pgconn.CommandTag, error) {
	readArgs(args)
	return tagOne, nil
}

func (f *fakeTx) QueryRow(_ context.Context, _ string, args ...any) pgx.Row {
	readArgs(args)
	return &f.row
}

func (f *fakeTx) Query(context.Context, string, ...any) (pgx.Rows, error) { panic("no Query") }

// fakeRow fills every int64 destination with a large number (a balance
// that suffices, a funded transfer moving two accounts).
type fakeRow struct{}

func (*fakeRow) Scan(dest ...any) error {
	for _, d := range dest {
		*(d.(*int64)) = 2
	}
	return nil
}

// fakeResults answers a pipelined transfer's three statements.
type fakeResults struct{ pgx.BatchResults }

func (fakeResults) Exec() (pgconn.CommandTag, error) { return tagTwo, nil }

// TestTransferAllocatesNothing: drawing a transfer and running it in every
// style allocates nothing in the workload — the argument slices are built
// once and read the worker's fields — so that what a transfer allocates is
// pgx's own (BenchmarkTransferOnStack in package driver counts it over a
// real connection).
func TestTransferAllocatesNothing(t *testing.T) {
	b := newBank()
	b.accounts, b.hotAccounts = 1000, 4
	ctx := context.Background()
	tx := &fakeTx{}
	for _, style := range workloads.TxnStyles {
		b.style = style
		w := b.NewWorker(rand.New(rand.NewPCG(1, 2)))
		var run func()
		switch wk := w.(type) {
		case *pipelinedWorker:
			wk.batch.QueuedQueries = make([]*pgx.QueuedQuery, 0, 4)
			run = func() {
				wk.Next()
				if err := wk.ReadAttempt(fakeResults{}); err != nil {
					t.Fatal(err)
				}
				for _, args := range [][]any{wk.recordArgs, wk.debitArgs, wk.credit} {
					readArgs(args)
				}
			}
		case *appWorker:
			run = func() {
				wk.Next()
				wk.amount = 1 // the fake balance, 2, suffices
				if err := wk.Attempt(ctx, tx); err != nil {
					t.Fatal(err)
				}
			}
		case workloads.Single:
			run = func() {
				w.Next()
				if err := wk.AttemptSingle(ctx, tx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n := testing.AllocsPerRun(1000, run); n != 0 {
			t.Errorf("%s: a transfer allocates %.1f times in the workload", style, n)
		}
	}
}

// TestPreparedTransferAllocatesOnlyInPgconn: drawing a pipelined transfer
// and queueing it through pgconn (workloads.PreparedBatcher) allocates
// exactly what pgconn's Batch allocates for the same three statements
// queued by hand, with the same parameter sizes: nothing in the workload.
func TestPreparedTransferAllocatesOnlyInPgconn(t *testing.T) {
	b := newBank()
	b.accounts, b.style = 1000, workloads.StylePipelined
	w := b.NewWorker(rand.New(rand.NewPCG(1, 2))).(*pipelinedWorker)
	sds := []*pgconn.StatementDescription{{Name: "record"}, {Name: "debit"}, {Name: "credit"}}
	var batch pgconn.Batch
	viaWorker := testing.AllocsPerRun(1000, func() {
		w.Next()
		batch = pgconn.Batch{}
		w.QueuePrepared(&batch, sds)
	})
	uuid, int8 := make([]byte, 16), make([]byte, 8)
	record, two := [][]byte{uuid, uuid, int8, int8, int8}, [][]byte{int8, int8}
	byHand := testing.AllocsPerRun(1000, func() {
		batch = pgconn.Batch{}
		batch.ExecStatement(sds[0], record, workloads.BinaryFormat, nil)
		batch.ExecStatement(sds[1], two, workloads.BinaryFormat, nil)
		batch.ExecStatement(sds[2], two, workloads.BinaryFormat, nil)
	})
	if viaWorker != byHand {
		t.Errorf("queueing a transfer allocates %.1f times, pgconn's batch alone %.1f", viaWorker, byHand)
	}
}
