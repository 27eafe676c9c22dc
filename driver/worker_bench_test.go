package driver

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

// noopTx is a transaction that does nothing: Begin, Commit and Rollback
// return at once. Any other method panics (it embeds a nil pgx.Tx).
type noopTx struct{ pgx.Tx }

func (noopTx) Commit(context.Context) error   { return nil }
func (noopTx) Rollback(context.Context) error { return nil }

var theNoopTx = &noopTx{}

// noopDB begins no-op transactions; it stands in for the pool. It runs no
// statement outside one (its nil Querier panics).
type noopDB struct{ workloads.Querier }

func (noopDB) Begin(context.Context) (pgx.Tx, error) { return theNoopTx, nil }
func (noopDB) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults {
	panic("noopDB: no batches")
}

// noopWorkload has one op whose attempt does nothing.
type noopWorkload struct{}

func (noopWorkload) Meta() workloads.Meta  { return workloads.Meta{Name: "noop"} }
func (noopWorkload) Flags() *pflag.FlagSet { return pflag.NewFlagSet("noop", pflag.ContinueOnError) }
func (noopWorkload) Ops() []string         { return []string{"noop"} }
func (noopWorkload) Prepare(context.Context, *pgxpool.Pool, *workloads.RunInfo) error {
	return nil
}
func (noopWorkload) NewWorker(*rand.Rand) workloads.Worker { return noopWorker{} }
func (noopWorker) Next() int                               { return 0 }
func (noopWorker) Attempt(context.Context, pgx.Tx) error   { return nil }

type noopWorker struct{}

// noopRun is a closed-loop run of n no-op ops on one worker.
func noopRun(n int64, maxRate float64) *Run {
	cfg := Config{Concurrency: 1, MaxOps: n, MaxRate: maxRate, DisplayEvery: time.Second}
	return &Run{
		Config: cfg, Workload: noopWorkload{}, Out: io.Discard,
		Registry: results.NewRegistry([]string{"noop"}, maxRate > 0, time.Now()),
		testDB:   noopDB{},
	}
}

// BenchmarkWorkerIteration is one iteration of the worker loop around a
// no-op transaction: the op count, Next, Begin, the attempt, Commit, the
// clock reads and recording the latency. What remains per op is the
// driver's own cost.
func BenchmarkWorkerIteration(b *testing.B) {
	b.ReportAllocs()
	res := noopRun(int64(b.N), 0).Execute(context.Background())
	if res.Err != nil {
		b.Fatal(res.Err)
	}
}

// BenchmarkWorkerIterationOpenLoop is the same with a rate so high that
// every op is already due: the open loop's schedule without its sleeps.
func BenchmarkWorkerIterationOpenLoop(b *testing.B) {
	b.ReportAllocs()
	res := noopRun(int64(b.N), 1e12).Execute(context.Background())
	if res.Err != nil {
		b.Fatal(res.Err)
	}
}

// BenchmarkPacedOpenLoopIteration is the open loop with waits: 2 000 ops/s
// on one worker, so that every op waits for its intended start. Its time
// per op is the schedule's 500 µs; allocs/op is the point (the wait reuses
// the worker's timer).
func BenchmarkPacedOpenLoopIteration(b *testing.B) {
	b.ReportAllocs()
	res := noopRun(int64(b.N), 2e3).Execute(context.Background())
	if res.Err != nil {
		b.Fatal(res.Err)
	}
}
