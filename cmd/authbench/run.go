package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

const runUsage = "run WORKLOAD [--auth MODE] [--concurrency N] [--duration D] [flags]"

// runOpts are the flags of `authbench run`.
type runOpts struct {
	connFlags
	drv    driver.Config
	seed   int64
	out    string
	quiet  bool
	// metricsAddr serves /metrics while the run goes ("" disables).
	metricsAddr string
	connMode    string
	runDir string // resolved --out
}

func (o *runOpts) register(fs *pflag.FlagSet) {
	o.connFlags.register(fs)
	fs.IntVar(&o.drv.Concurrency, "concurrency", 8, "number of workers (and pooled connections)")
	fs.DurationVar(&o.drv.Duration, "duration", 10*time.Second, "measured duration after the ramp; 0 = until --max-ops or Ctrl-C")
	fs.DurationVar(&o.drv.Ramp, "ramp", 0, "warm-up: workers start spread over it; left out of the statistics")
	fs.Int64Var(&o.drv.MaxOps, "max-ops", 0, "stop after this many ops (0 = no limit)")
	fs.Float64Var(&o.drv.MaxRate, "max-rate", 0, "open loop: ops per second over all workers; latency counts from each op's intended start (0 = closed loop)")
	fs.IntVar(&o.drv.MaxRetries, "max-retries", 30, "retries of a transaction on SQLSTATE 40001/40P01 or a lost connection before it counts as failed")
	fs.BoolVar(&o.drv.TolerateErrors, "tolerate-errors", false, "keep running after failed transactions (they are counted by class)")
	fs.Int64Var(&o.seed, "seed", 1, "random seed; worker i uses seed + i")
	fs.DurationVar(&o.drv.DisplayEvery, "display-every", time.Second, "how often to print the per-second line")
	fs.StringVar(&o.connMode, "conn-mode", "pool", "pool: workers share a pool; per-txn: a new connection for every transaction, like pgbench -C (connection time reported apart)")
	fs.DurationVar(&o.lifetime.max, "max-conn-lifetime", time.Hour, "pool mode: close connections older than this")
	fs.DurationVar(&o.lifetime.jitter, "max-conn-lifetime-jitter", 5*time.Minute, "pool mode: random extra lifetime, so connections do not all reconnect at once")
	fs.StringVar(&o.out, "out", "", "run directory (default runs/<timestamp>-<workload>-<auth>)")
	fs.BoolVar(&o.quiet, "quiet", false, "do not print the per-second lines")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "127.0.0.1:2112", "serve Prometheus metrics at http://ADDR/metrics during the run (empty disables)")
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run")
	var o runOpts
	o.register(fs)
	w, rest, err := workloadArg("run", args, fs)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, runUsage, rest, stdout); err != nil || w == nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	o.drv.Seed = uint64(o.seed)
	switch o.connMode {
	case "pool":
	case "per-txn":
		o.drv.ConnPerTxn = true
	default:
		return usagef("--conn-mode must be pool or per-txn, got %q", o.connMode)
	}
	if o.lifetime.max <= 0 || o.lifetime.jitter < 0 {
		return usagef("--max-conn-lifetime must be positive and --max-conn-lifetime-jitter not negative")
	}
	if err := o.drv.Validate(); err != nil {
		return &usageError{msg: err.Error()}
	}
	if _, err := o.mode(); err != nil {
		return err
	}
	return execRun(ctx, &o, w, redactedFlags(fs), stdout)
}

// execRun opens the pool, prepares the workload, runs the load and writes
// the run directory; Ctrl-C still writes everything.
func execRun(ctx context.Context, o *runOpts, w workloads.Workload, cfgMap map[string]string, stdout io.Writer) error {
	reg := results.NewRegistry(w.Ops(), o.drv.MaxRate > 0, time.Now())
	p, err := o.openPool(ctx, o.drv.Concurrency, reg)
	if err != nil {
		return err
	}
	defer p.Close()
	run := &workloads.RunInfo{}
	_, _ = rand.Read(run.RunID[:])
	if err := w.Prepare(ctx, p.Pool, run); err != nil {
		return err
	}
	start := time.Now()
	o.runDir = o.out
	if o.runDir == "" {
		o.runDir = filepath.Join("runs", fmt.Sprintf("%s-%s-%s", start.Format("20060102-150405"), w.Meta().Name, o.auth))
	}
	files, err := results.CreateRunFiles(o.runDir, w.Ops(), start.UnixMilli())
	if err != nil {
		return err
	}
	reg.Restart(start)
	stopMetrics, err := serveMetrics(o.metricsAddr, reg, w.Meta().Name, o.auth, &o.drv, stdout)
	if err != nil {
		files.Close()
		return err
	}
	defer stopMetrics()
	fmt.Fprintf(stdout, "authbench: %s with --auth %s as %s on %s (%s), %d workers, %s; writing %s\n",
		w.Meta().Name, o.auth, p.user, p.Config().ConnConfig.Host, serverName(p.server), o.drv.Concurrency, describeStop(&o.drv), o.runDir)
	out := stdout
	if o.quiet {
		out = io.Discard
	}
	res := (&driver.Run{Config: o.drv, DB: p.Pool, Workload: w, Registry: reg, Files: files, Out: out}).Execute(ctx)
	s := reg.Summary(time.Now(), files.Points())
	s.Command, s.Workload, s.AuthMode, s.RunID = "run", w.Meta().Name, o.auth, hex.EncodeToString(run.RunID[:])
	s.Config, s.Server, s.Interrupted, s.StopReason = cfgMap, p.server, res.Interrupted, res.StopReason
	s.Config["auth_settings"] = fmt.Sprint(p.mode.Settings())
	if f, ok := w.(workloads.Facter); ok {
		s.Facts = f.Facts()
	}
	if err := finishRun(files, s, stdout); err != nil {
		return err
	}
	switch {
	case res.Interrupted:
		return fmt.Errorf("interrupted; the partial results are in %s", o.runDir)
	case res.Err != nil:
		return fmt.Errorf("stopped after a failed transaction: %s (class %s; add --tolerate-errors to keep going); results in %s",
			oneLine(res.Err.Error()), driver.Classify(res.Err), o.runDir)
	}
	return nil
}

// finishRun writes summary.json, closes the files and prints the summary.
func finishRun(files *results.RunFiles, s *results.Summary, stdout io.Writer) error {
	werr := s.WriteJSON(files.Dir)
	cerr := files.Close()
	results.PrintSummary(stdout, s)
	fmt.Fprintf(stdout, "\nrun directory: %s\n", files.Dir)
	if werr != nil {
		return fmt.Errorf("writing summary.json: %v", werr)
	}
	return cerr
}

func serverName(s results.ServerInfo) string {
	if s.CockroachDB {
		return "CockroachDB " + s.Version
	}
	return "PostgreSQL " + s.Version
}

func describeStop(c *driver.Config) string {
	switch {
	case c.Duration > 0 && c.Ramp > 0:
		return fmt.Sprintf("%s ramp + %s", c.Ramp, c.Duration)
	case c.Duration > 0:
		return c.Duration.String()
	case c.MaxOps > 0:
		return fmt.Sprintf("%d ops", c.MaxOps)
	}
	return "until Ctrl-C"
}
