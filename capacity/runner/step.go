package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"strconv"
	"time"

	"github.com/authbench/authbench/capacity"
	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

// step runs one step at rate (0: the closed-loop probe) in its own run
// directory and returns what it measured and how it was judged.
func (r *Runner) step(ctx context.Context, mode string, idx int, rate float64) (capacity.StepEntry, error) {
	if ctx.Err() != nil {
		return capacity.StepEntry{}, ErrInterrupted
	}
	name := stepDir(mode, idx, rate)
	ops := r.Workload.Ops()
	reg := results.NewRegistry(ops, rate > 0, time.Now())
	sess, err := r.Open(ctx, mode, r.Driver.Concurrency, reg)
	if err != nil {
		if ctx.Err() != nil {
			return capacity.StepEntry{}, ErrInterrupted
		}
		return capacity.StepEntry{}, err
	}
	defer sess.Close()
	run := &workloads.RunInfo{TxnStyle: r.TxnStyle}
	_, _ = rand.Read(run.RunID[:])
	if err := r.Workload.Prepare(ctx, sess.DB, run); err != nil {
		return capacity.StepEntry{}, err
	}
	cfg := r.stepConfig(rate)
	if cfg.RetryProtocol == "" {
		cfg.RetryProtocol = driver.DefaultProtocol(sess.Server.CockroachDB)
	}
	if note := driver.ProtocolNote(cfg.RetryProtocol, sess.Server.CockroachDB); note != "" && !r.noted && r.Progress != nil {
		r.noted = true
		fmt.Fprintf(r.Progress, "capacity: note: savepoint retries on PostgreSQL: %s\n", note)
	}
	start := time.Now()
	dir := filepath.Join(r.Out, name)
	files, err := results.CreateRunFiles(dir, ops, start.UnixMilli())
	if err != nil {
		return capacity.StepEntry{}, err
	}
	reg.Restart(start)
	r.Metrics.startStep(reg, mode, idx, rate, cfg.Concurrency)
	w := newWatcher(r.Objective, capacity.Window{Offered: rate, Seconds: cfg.Duration.Seconds()}, cfg.ConnPerTxn, reg)
	stopRotations := func() {}
	if sess.Rotate != nil {
		stopRotations = sess.Rotate(ctx)
	}
	res := (&driver.Run{Config: cfg, DB: sess.DB, Workload: r.Workload, Registry: reg, Files: files, Out: io.Discard, Watch: w.tick}).Execute(ctx)
	stopRotations()
	s := reg.Summary(time.Now(), files.Points())
	s.Command, s.Workload, s.AuthMode, s.RunID = "run", r.Workload.Meta().Name, mode, hex.EncodeToString(run.RunID[:])
	s.Server, s.Interrupted, s.StopReason = sess.Server, res.Interrupted, res.StopReason
	s.Config, s.AuthConf = r.stepFlags(mode, idx, cfg), sess.Settings()
	s.TxnStyle, s.RetryProtocol = workloads.StyleOf(run), cfg.RetryProtocol
	if f, ok := r.Workload.(workloads.Facter); ok {
		s.Facts = f.Facts()
	}
	if err := writeStep(reg, files, s); err != nil {
		return capacity.StepEntry{}, err
	}
	if res.Interrupted {
		return capacity.StepEntry{}, ErrInterrupted
	}
	m := w.measurement(s, cfg)
	e := capacity.StepEntry{
		Step: capacity.Step{Rate: rate, Verdict: capacity.Judge(r.Objective, m)},
		Dir:  name, Achieved: m.Achieved, Latency: m.Latency, Errors: m.Errors, Total: m.Total,
	}
	return e, nil
}

// stepConfig is the driver's configuration of a step: open loop at rate
// (closed for the probe), every error tolerated and counted.
func (r *Runner) stepConfig(rate float64) driver.Config {
	cfg := r.Driver
	cfg.MaxRate, cfg.Ramp, cfg.Duration, cfg.MaxOps = rate, r.Warmup, r.Step, 0
	if rate == 0 {
		cfg.Duration = r.Probe
	}
	cfg.TolerateErrors, cfg.DisplayEvery = true, time.Second
	return cfg
}

func (r *Runner) stepFlags(mode string, idx int, cfg driver.Config) map[string]string {
	m := maps.Clone(r.Flags)
	if m == nil {
		m = map[string]string{}
	}
	m["auth"] = mode
	m["max-rate"] = strconv.FormatFloat(cfg.MaxRate, 'g', -1, 64)
	m["duration"], m["ramp"] = cfg.Duration.String(), cfg.Ramp.String()
	m["concurrency"] = strconv.Itoa(cfg.Concurrency)
	m["capacity_step"] = strconv.Itoa(idx)
	return m
}

// writeStep writes summary.json and handshake.hlog and closes the files.
func writeStep(reg *results.Registry, files *results.RunFiles, s *results.Summary) error {
	herr := reg.WriteHandshakeLog(files.Dir)
	werr := s.WriteJSON(files.Dir)
	cerr := files.Close()
	for _, err := range []error{werr, herr, cerr} {
		if err != nil {
			return fmt.Errorf("writing run directory %s: %w", files.Dir, err)
		}
	}
	return nil
}

// stepDir names a step's run directory: mode, step number, rate.
func stepDir(mode string, idx int, rate float64) string {
	if rate == 0 {
		return fmt.Sprintf("%s-%02d-probe", mode, idx)
	}
	return fmt.Sprintf("%s-%02d-%s", mode, idx, strconv.FormatFloat(rate, 'f', -1, 64))
}
