package driver_test

import (
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/workloads"
	"github.com/authbench/authbench/workloads/workloadtest"
)

// hangSQL is the statement that never ends by itself.
const hangSQL = "SELECT pg_sleep(3600) -- grace test"

// hangWorkload's one op runs hangSQL; started is closed when the first
// attempt sends it.
type hangWorkload struct {
	once    sync.Once
	started chan struct{}
}

func (*hangWorkload) Meta() workloads.Meta  { return workloads.Meta{Name: "hang"} }
func (*hangWorkload) Flags() *pflag.FlagSet { return pflag.NewFlagSet("hang", pflag.ContinueOnError) }
func (*hangWorkload) Ops() []string         { return []string{"hang"} }
func (*hangWorkload) Prepare(context.Context, *pgxpool.Pool, *workloads.RunInfo) error {
	return nil
}
func (w *hangWorkload) NewWorker(*rand.Rand) workloads.Worker { return hangWorker{w} }

type hangWorker struct{ w *hangWorkload }

func (hangWorker) Next() int { return 0 }
func (h hangWorker) Attempt(ctx context.Context, tx pgx.Tx) error {
	h.w.once.Do(func() { close(h.w.started) })
	_, err := tx.Exec(ctx, hangSQL)
	return err
}

// TestGraceEndsStatementInFlight interrupts a run whose statement never
// ends, on a real connection: when the stop's grace is over the driver
// ends it (the worker's statements run in a context pgx does not watch,
// so it is the driver that closes the connection and asks the server to
// cancel), the run returns as interrupted and the server's backend is no
// longer running the statement. With a pooled connection and with one
// connection per transaction.
func TestGraceEndsStatementInFlight(t *testing.T) {
	st := stacktest.Start(t)
	admin := stacktest.Admin(t, st)
	for _, perTxn := range []bool{false, true} {
		name := map[bool]string{false: "pooled", true: "per-txn"}[perTxn]
		t.Run(name, func(t *testing.T) {
			pool := workloadtest.Pool(t, stacktest.CertConnString(st, "bench_cert"), 2)
			w := &hangWorkload{started: make(chan struct{})}
			r := &driver.Run{
				Config: driver.Config{Concurrency: 1, StopGrace: 100 * time.Millisecond, DisplayEvery: time.Hour, ConnPerTxn: perTxn},
				DB:     pool, Workload: w, Out: io.Discard,
				Registry: results.NewRegistry(w.Ops(), false, time.Now()),
			}
			ctx, interrupt := context.WithCancel(context.Background())
			defer interrupt()
			done := make(chan driver.Result, 1)
			go func() { done <- r.Execute(ctx) }()
			<-w.started
			waitBackends(t, admin, 1) // the statement is running on the server
			interrupt()
			select {
			case res := <-done:
				if !res.Interrupted || res.Err != nil {
					t.Errorf("result %+v, want interrupted without error", res)
				}
			case <-time.After(2 * time.Minute): // the statement sleeps an hour
				t.Fatal("the run did not end: the grace's end left the statement in flight")
			}
			waitBackends(t, admin, 0) // the server cancelled it too
		})
	}
}

// waitBackends waits until n backends run hangSQL.
func waitBackends(t *testing.T, admin *pgx.Conn, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var got int
		err := admin.QueryRow(context.Background(),
			`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = $1`, hangSQL).Scan(&got)
		if err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backends run %q, want %d", got, hangSQL, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
