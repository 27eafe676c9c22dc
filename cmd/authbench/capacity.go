package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/capacity"
	"github.com/authbench/authbench/capacity/runner"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

const capacityUsage = "capacity WORKLOAD --auth cert,password,... --slo 'p99<=50ms,errors<=0.1%' [--step-duration 20s] [--precision 5%] [--max-steps N] [--conn-mode per-txn] [--out DIR]"

// capacityOpts are the flags of `authbench capacity`: run's connection,
// worker and rotation flags, and the search's own.
type capacityOpts struct {
	runOpts
	modes     []string
	slo       string
	objective capacity.Objective
	precision string
	prec      float64
	maxSteps  int
	warmup    time.Duration
	step      time.Duration
	probe     time.Duration
}

// register adds the flags to fs; --auth on args selects the modes whose
// own flags are added.
func (c *capacityOpts) register(fs *pflag.FlagSet, args []string, stderr io.Writer) {
	o := &c.runOpts
	o.conn.Flags(fs)
	fs.StringVar(&o.auth, "auth", authDefault(), "auth modes to search, comma-separated: "+strings.Join(authmodes.Names(), ", ")+" [$AUTHBENCH_AUTH]")
	o.modes = addModeFlags(fs, args, true, []string{authDefault()}, stderr)
	fs.IntVar(&o.drv.Concurrency, "concurrency", 16, "workers (and pooled connections) of every step; a step they cannot offer is reported as not offered")
	fs.IntVar(&o.drv.MaxRetries, "max-retries", 30, "retries of a transaction on SQLSTATE 40001/40P01 or a lost connection before it counts as failed")
	fs.StringVar(&o.connMode, "conn-mode", "pool", "pool: search transactions per second; per-txn: new connections per second, judged by the handshake's total")
	fs.DurationVar(&o.rotateEvery, "rotate-every", 0, "force a credential rotation this often during every step (0 = never)")
	fs.DurationVar(&o.lifetime.max, "max-conn-lifetime", time.Hour, "pool mode: close connections older than this")
	fs.DurationVar(&o.lifetime.jitter, "max-conn-lifetime-jitter", 5*time.Minute, "pool mode: random extra lifetime")
	fs.StringVar(&o.out, "out", "", "capacity directory (default runs/<timestamp>-capacity-<workload>); one run directory per step inside")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "127.0.0.1:2112", "serve Prometheus metrics at http://ADDR/metrics during the search (empty disables)")
	fs.Int64Var(&o.seed, "seed", 1, "random seed; worker i uses seed + i")
	o.registerShape(fs, workloads.StyleApp) // capacity is about the application's round trips
	fs.StringVar(&c.slo, "slo", "p99<=50ms,errors<=0.1%", "objective every step must hold: p50, p95, p99, p999 or max <= a duration; errors <= a percentage or a count")
	fs.StringVar(&c.precision, "precision", "5%", "stop once the highest passing and the lowest failing rate are this close, in (0, 50%]")
	fs.IntVar(&c.maxSteps, "max-steps", 10, "at most this many steps per auth mode after the probe")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "each step's warm-up, left out of its statistics")
	fs.DurationVar(&c.step, "step-duration", 20*time.Second, "each step's measured window")
	fs.DurationVar(&c.probe, "probe-duration", 5*time.Second, "the closed-loop probe's measured window (it bounds the rates tried)")
}

// validate checks every flag, and every mode's as run would, before
// anything connects.
func (c *capacityOpts) validate() error {
	var err error
	if c.objective, err = capacity.ParseObjective(c.slo); err != nil {
		return usagef("--slo: %v", err)
	}
	if c.prec, err = parsePrecision(c.precision); err != nil {
		return err
	}
	switch {
	case c.maxSteps < 1:
		return usagef("--max-steps must be at least 1, got %d", c.maxSteps)
	case c.step < time.Second || c.probe < time.Second:
		return usagef("--step-duration and --probe-duration must be at least 1s, got %s and %s", c.step, c.probe)
	case c.warmup < time.Second:
		return usagef("--warmup must be at least 1s (the first second of a step is never measured), got %s", c.warmup)
	}
	c.modes = splitList(c.auth)
	if len(c.modes) == 0 {
		return usagef("--auth must name at least one mode: %s", strings.Join(authmodes.Names(), ", "))
	}
	c.drv.DisplayEvery = time.Second
	for _, m := range c.modes {
		mo := c.runOpts
		mo.auth = m
		if err := mo.validate(); err != nil {
			return err
		}
		c.drv = mo.drv // validate fills in the seed and the connection mode
	}
	return nil
}

// parsePrecision reads --precision: a percentage in (0, 50].
func parsePrecision(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || v <= 0 || v > 50 {
		return 0, usagef("--precision must be a percentage in (0, 50%%], such as 5%%, got %q", s)
	}
	return v / 100, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runCapacity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("capacity")
	var c capacityOpts
	c.register(fs, args, stderr)
	w, rest, err := workloadArg("capacity", args, fs)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, capacityUsage, rest, stdout); err != nil || w == nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	if err := c.validate(); err != nil {
		return err
	}
	if err := validateWorkload(w); err != nil {
		return err
	}
	if c.out == "" {
		c.out = filepath.Join("runs", fmt.Sprintf("%s-capacity-%s", time.Now().Format("20060102-150405"), w.Meta().Name))
	}
	r := runner.New(runner.Config{
		Workload: w, Driver: c.drv, Warmup: c.warmup, Step: c.step, Probe: c.probe,
		Objective: c.objective, Precision: c.prec, MaxSteps: c.maxSteps, Out: c.out,
		Open: c.opener(), Progress: stdout, Flags: redactedFlags(fs), Rotate: rotateText(c.rotateEvery),
		TxnStyle: c.txnStyle,
	})
	if err := r.Preflight(ctx, c.modes); err != nil {
		return err
	}
	stop, err := c.serveMetrics(r, w.Meta().Name, stdout)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(stdout, "authbench: capacity of %s (%s style) for %s, objective %s, %d workers, steps of %s + %s warm-up; writing %s\n",
		w.Meta().Name, c.txnStyle, strings.Join(c.modes, ", "), c.objective, c.drv.Concurrency, c.step, c.warmup, c.out)
	f, err := r.Run(ctx, c.modes)
	if f != nil && len(f.Modes) > 0 {
		fmt.Fprintf(stdout, "\n%s\ncapacity directory: %s (`authbench report %s` draws it)\n", f.Markdown(), c.out, c.out)
	}
	if errors.Is(err, runner.ErrInterrupted) {
		return fmt.Errorf("interrupted; the steps so far are in %s", c.out)
	}
	return err
}

func rotateText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

// opener opens a step's pool with run's own helpers: the auth mode's flags
// and defaults, the handshake instrumentation, the forced rotations.
func (c *capacityOpts) opener() runner.Opener {
	return func(ctx context.Context, mode string, conns int, reg *results.Registry) (*runner.Session, error) {
		mo := c.runOpts
		mo.auth = mode
		p, err := mo.openPool(ctx, conns, reg)
		if err != nil {
			return nil, err
		}
		s := &runner.Session{
			DB: p.Pool, Server: p.server, Close: p.Close,
			Settings: p.mode.Settings,
		}
		if mo.rotateEvery > 0 {
			s.Rotate = func(ctx context.Context) func() { return startRotations(ctx, &mo, p, nil, reg) }
		}
		return s, nil
	}
}

// serveMetrics serves the search's metrics (the running step's, its
// offered rate and the objective) at --metrics-addr.
func (c *capacityOpts) serveMetrics(r *runner.Runner, workload string, stdout io.Writer) (func(), error) {
	if c.metricsAddr == "" {
		return func() {}, nil
	}
	preg, err := metricsRegistry()
	if err != nil {
		return nil, err
	}
	unit := "tx/s"
	if c.drv.ConnPerTxn {
		unit = "conn/s"
	}
	if r.Metrics, err = runner.NewMetrics(preg, workload, unit, c.objective); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	return serveRegistry(c.metricsAddr, preg, stdout), nil
}
