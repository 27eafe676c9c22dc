// Package driver runs a workload's ops against a connection pool: the
// workers, the closed or open loop, the ramp, the duration, retries with
// backoff, error classes, the per-second ticks and the stop. It measures
// into a results.Registry and knows nothing of how connections authenticate.
package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

// beginner starts a transaction, alone or as the first query of a batch,
// or runs a statement as a transaction of its own; *pgxpool.Pool and
// *pgx.Conn are ones.
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	workloads.Querier
}

// Run is one execution of a workload.
type Run struct {
	Config Config
	DB     *pgxpool.Pool
	// Pools, when set, are a fleet's instances' pools (Fleet.Pools):
	// worker i runs on Pools[InstanceOf(i, len(Pools))] and DB is unused.
	Pools    []*pgxpool.Pool
	Workload workloads.Workload
	Registry *results.Registry
	Files    *results.RunFiles // may be nil in tests
	Out      io.Writer         // the per-second lines; io.Discard to silence
	Shape    string            // the transaction shape, shown with the per-second header (results.Summary.Shape)
	// Watch, when set, sees every tick once it is written; a non-empty
	// reason it returns stops the run with that StopReason (the capacity
	// search ends a clearly lost step this way). The tick is only valid
	// during the call.
	Watch func(t *results.Tick) string

	testDB beginner // tests only: transactions begin on it instead of DB
	// openConn, in tests only, opens a per-txn connection instead of the pool.
	openConn func(ctx context.Context) (beginner, func(), error)
}

// Result says why the run stopped.
type Result struct {
	Interrupted bool   // the context was cancelled (Ctrl-C)
	StopReason  string // "duration", "max-ops", "interrupted", "error"
	Err         error  // the error that stopped the run, when not tolerated
}

type runner struct {
	*Run
	start     time.Time
	stopCh    chan struct{}
	stopOnce  sync.Once
	reason    string
	err       error
	opCtx     context.Context
	cancelOps context.CancelFunc
	issued    atomic.Int64
	busy      busyConns // per worker, its transaction's connection (endOps)
}

// Execute runs the load until the duration ends, MaxOps are issued, an
// untolerated error happens or ctx is cancelled; in-flight ops get
// Config.StopGrace to finish. Ticks are written and printed as it goes.
func (r *Run) Execute(ctx context.Context) Result {
	rn := &runner{Run: r, start: r.Registry.Start(), stopCh: make(chan struct{}), busy: make(busyConns, r.Config.Concurrency)}
	rn.opCtx, rn.cancelOps = context.WithCancel(context.Background())
	defer rn.cancelOps()
	if r.Config.Duration > 0 {
		t := time.AfterFunc(time.Until(rn.start.Add(r.Config.Ramp+r.Config.Duration)), func() { rn.stop("duration", nil) })
		defer t.Stop()
	}
	var interrupted atomic.Bool
	go func() {
		select {
		case <-ctx.Done():
			interrupted.Store(true)
			rn.stop("interrupted", nil)
		case <-rn.stopCh:
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < r.Config.Concurrency; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); rn.worker(i) }()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	rn.tickLoop(done)
	rn.stop("done", nil) // releases the watcher when the workers ended on their own
	return Result{Interrupted: interrupted.Load(), StopReason: rn.reason, Err: rn.err}
}

// poolOf returns the pool worker i runs on.
func (rn *runner) poolOf(i int) *pgxpool.Pool {
	if len(rn.Pools) > 0 {
		return rn.Pools[InstanceOf(i, len(rn.Pools))]
	}
	return rn.DB
}

func (rn *runner) stop(reason string, err error) {
	rn.stopOnce.Do(func() {
		rn.reason, rn.err = reason, err
		close(rn.stopCh)
		grace := rn.Config.StopGrace
		if grace <= 0 {
			grace = 5 * time.Second
		}
		time.AfterFunc(grace, rn.endOps)
	})
}

func (rn *runner) stopped() bool {
	select {
	case <-rn.stopCh:
		return true
	default:
		return false
	}
}

// sleepUntil waits until t or the stop; it reports false on stop.
func (rn *runner) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return !rn.stopped()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-rn.stopCh:
		return false
	}
}

// waitUntil is sleepUntil on a timer of the caller's, reset for every wait
// rather than allocated: an open-loop worker waits before every op.
func (rn *runner) waitUntil(timer *time.Timer, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return !rn.stopped()
	}
	timer.Reset(d)
	select {
	case <-timer.C:
		return true
	case <-rn.stopCh:
		timer.Stop()
		return false
	}
}

// tickLoop folds the registry once a second until the workers are done,
// then writes a last, partial tick.
func (rn *runner) tickLoop(done <-chan struct{}) {
	printer := &results.Printer{W: rn.Out, Shape: rn.Shape, Storm: len(rn.Pools) > 0}
	every := int(rn.Config.DisplayEvery / time.Second)
	for n := 1; ; n++ {
		timer := time.NewTimer(time.Until(rn.start.Add(time.Duration(n) * time.Second)))
		select {
		case now := <-timer.C:
			// The tick at the ramp's end covers its last second: warm-up,
			// though its timer fires a little after the ramp.
			rn.tick(printer, now, time.Duration(n)*time.Second <= rn.Config.Ramp, n%every == 0)
		case <-done:
			timer.Stop()
			now := time.Now()
			rn.tick(printer, now, now.Before(rn.start.Add(rn.Config.Ramp)), true)
			return
		}
	}
}

func (rn *runner) tick(p *results.Printer, now time.Time, warmup, show bool) {
	t := rn.Registry.Tick(now, warmup)
	if rn.Files != nil {
		if err := rn.Files.WriteTick(t); err != nil {
			rn.stop("error", fmt.Errorf("writing run files: %w", err))
		}
	}
	if rn.Watch != nil {
		if reason := rn.Watch(t); reason != "" {
			rn.stop(reason, nil)
		}
	}
	if show || len(t.Events) > 0 {
		p.PrintTick(t)
	}
}

// errStopping marks an op abandoned because the run was stopping.
var errStopping = errors.New("run stopping")
