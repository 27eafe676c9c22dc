// Package runner runs the capacity search's steps against a database: each
// step is an ordinary driver run (its own pool, warm-up and measured
// window, latency from the intended start) in a run directory of its own,
// judged by package capacity, which also decides the next rate.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/capacity"
	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

// Session is an auth mode's pool, open for one step.
type Session struct {
	DB       *pgxpool.Pool
	Server   results.ServerInfo
	Settings func() map[string]string // the mode's settings at the step's end, for summary.json (no secret in it)
	// Rotate, when not nil, starts forcing credential rotations (each an
	// event in the step's registry) and returns the func that stops them.
	Rotate func(ctx context.Context) (stop func())
	Close  func()
}

// Opener opens a pool of conns connections with an auth mode, records its
// handshakes and events into reg, and proves that it connects.
type Opener func(ctx context.Context, mode string, conns int, reg *results.Registry) (*Session, error)

// Config is a capacity search over one workload.
type Config struct {
	Workload  workloads.Workload
	Driver    driver.Config // workers, retries, seed, per-txn; the rate, ramp and duration are set per step
	Warmup    time.Duration // each step's warm-up, left out of its statistics
	Step      time.Duration // each step's measured window
	Probe     time.Duration // the closed-loop probe's measured window
	Objective capacity.Objective
	Precision float64
	MaxSteps  int
	Out       string // the capacity directory; one run directory per step inside
	Open      Opener
	Progress  io.Writer         // a line per step
	Metrics   *Metrics          // nil: no /metrics
	Flags     map[string]string // every step's summary.json config (redacted)
	Rotate    string            // the rotation period as given, for capacity.json ("" = none)
	TxnStyle  string            // the workload's transaction style (workloads.Style*); "" is the workload's default
}

// Runner runs searches.
type Runner struct {
	Config
	noted bool // the retry protocol's note was printed
}

// New returns a runner for cfg.
func New(cfg Config) *Runner { return &Runner{Config: cfg} }

// ErrInterrupted is returned when the context ended the search; what was
// measured so far is written.
var ErrInterrupted = errors.New("interrupted")

// Preflight opens and closes one connection with every mode, so that a mode
// that cannot connect is reported before any load is sent.
func (r *Runner) Preflight(ctx context.Context, modes []string) error {
	for _, m := range modes {
		s, err := r.Open(ctx, m, 1, results.NewRegistry(nil, false, time.Now()))
		if err != nil {
			return fmt.Errorf("auth mode %s: %w", m, err)
		}
		s.Close()
	}
	return nil
}

// Run searches every mode in turn and writes capacity.json and capacity.md
// after each, so an interrupted search keeps what it measured.
func (r *Runner) Run(ctx context.Context, modes []string) (*capacity.File, error) {
	f := r.file()
	for _, m := range modes {
		entry, err := r.Search(ctx, m)
		f.Modes = append(f.Modes, entry)
		if werr := f.Write(r.Out); werr != nil {
			return f, werr
		}
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

func (r *Runner) file() *capacity.File {
	f := &capacity.File{
		Version: capacity.FileVersion, Workload: r.Workload.Meta().Name, ConnMode: "pool", Unit: "tx/s",
		Objective: r.Objective, Precision: r.Precision, MaxSteps: r.MaxSteps,
		StepSeconds: r.Step.Seconds(), RotateEvery: r.Rotate, LatencyLabel: "transaction latency from its intended start",
	}
	if r.Driver.ConnPerTxn {
		f.ConnMode, f.Unit, f.LatencyLabel = "per-txn", "conn/s", "handshake total (credential to ReadyForQuery)"
	}
	return f
}

// Search runs the probe and then the steps Next asks for, for one mode.
func (r *Runner) Search(ctx context.Context, mode string) (capacity.ModeEntry, error) {
	e := capacity.ModeEntry{Mode: mode}
	probe, err := r.step(ctx, mode, 0, 0)
	if err != nil {
		e.Result = capacity.Summarize(nil)
		return r.failed(e, err)
	}
	e.Probe = &probe
	r.printProbe(mode, probe)
	plan := capacity.Plan{Ceiling: probe.Achieved, Precision: r.Precision, MaxSteps: r.MaxSteps}
	for {
		d := capacity.Next(plan, e.SearchSteps())
		if d.Done {
			e.Result = d.Result
			r.printResult(e)
			return e, nil
		}
		s, err := r.step(ctx, mode, len(e.Steps)+1, d.Rate)
		if err != nil {
			e.Result = capacity.Summarize(e.SearchSteps())
			return r.failed(e, err)
		}
		e.Steps = append(e.Steps, s)
		r.printStep(mode, len(e.Steps), s)
	}
}

func (r *Runner) failed(e capacity.ModeEntry, err error) (capacity.ModeEntry, error) {
	e.Error = err.Error()
	if errors.Is(err, ErrInterrupted) {
		e.Error = "interrupted"
	}
	return e, fmt.Errorf("auth mode %s: %w", e.Mode, err)
}
