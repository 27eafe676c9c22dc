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

// runOpts are the flags of `authbench run` (and of `handshake`).
type runOpts struct {
	connFlags
	drv         driver.Config
	seed        int64
	out         string
	quiet       bool
	metricsAddr string // serves /metrics while the run goes ("" disables)
	connMode    string
	rotateEvery time.Duration
	startAt     string
	txnStyle    string // the workload's transaction style
	// rotateSpread spreads a fleet's forced rotation over its instances.
	rotateSpread time.Duration
	// instanceArgs are the auth mode's flags as given, to configure each
	// fleet instance's own mode from.
	instanceArgs []string
}

// registerLoad registers the flags shared by run and handshake; args
// select the auth mode whose flags are added.
func (o *runOpts) registerLoad(fs *pflag.FlagSet, args []string, stderr io.Writer) {
	o.connFlags.register(fs, args, stderr)
	fs.IntVar(&o.drv.Concurrency, "concurrency", 8, "number of workers (and pooled connections)")
	fs.DurationVar(&o.drv.Duration, "duration", 10*time.Second, "measured duration after the ramp; 0 = until --max-ops or Ctrl-C")
	fs.Float64Var(&o.drv.MaxRate, "max-rate", 0, "open loop: ops per second over all workers; latency counts from each op's intended start (0 = closed loop)")
	fs.DurationVar(&o.drv.DisplayEvery, "display-every", time.Second, "how often to print the per-second line")
	fs.StringVar(&o.out, "out", "", "run directory (default runs/<timestamp>-<workload>-<auth>)")
	fs.BoolVar(&o.quiet, "quiet", false, "do not print the per-second lines")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "127.0.0.1:2112", "serve Prometheus metrics at http://ADDR/metrics during the run (empty disables)")
	fs.StringVar(&o.startAt, "start-at", "", "wait until this wall-clock time (RFC 3339) before the load starts, so several drivers' seconds line up")
	fs.Int64Var(&o.seed, "seed", 1, "random seed; worker i uses seed + i")
}

func (o *runOpts) register(fs *pflag.FlagSet, args []string, stderr io.Writer) {
	o.registerLoad(fs, args, stderr)
	fs.DurationVar(&o.drv.Ramp, "ramp", 0, "warm-up: workers start spread over it; left out of the statistics")
	fs.Int64Var(&o.drv.MaxOps, "max-ops", 0, "stop after this many ops (0 = no limit)")
	fs.IntVar(&o.drv.MaxRetries, "max-retries", 30, "retries of a transaction on SQLSTATE 40001/40P01 or a lost connection before it counts as failed")
	fs.BoolVar(&o.drv.TolerateErrors, "tolerate-errors", false, "keep running after failed transactions (they are counted by class)")
	fs.StringVar(&o.connMode, "conn-mode", "pool", "pool: workers share a pool; per-txn: a new connection for every transaction, like pgbench -C (connection time reported apart)")
	fs.DurationVar(&o.lifetime.max, "max-conn-lifetime", time.Hour, "pool mode: close connections older than this")
	fs.DurationVar(&o.lifetime.jitter, "max-conn-lifetime-jitter", 5*time.Minute, "pool mode: random extra lifetime, so connections do not all reconnect at once")
	fs.DurationVar(&o.rotateEvery, "rotate-every", 0, "force a credential rotation this often while the load runs (0 = never)")
	fs.DurationVar(&o.rotateSpread, "rotate-spread", 0, "fleet: spread each forced rotation uniformly over the instances within this span (0 = every instance at once: the storm)")
	fs.IntVar(&o.drv.Instances, "instances", 1, "fleet: application instances in this process, each with its own pool and its own credentials (workers are dealt round-robin)")
	fs.IntVar(&o.drv.PoolSize, "pool-size", 0, "fleet: connections each instance opens at the start and keeps, idle ones included (0 = one per worker of the instance, opened on demand when --instances is 1)")
	o.registerShape(fs, workloads.StylePipelined)
}

// registerShape adds the transaction shape's flags: the workload's style
// (its default given) and the retry protocol.
func (o *runOpts) registerShape(fs *pflag.FlagSet, style string) {
	fs.StringVar(&o.txnStyle, "txn-style", style, "how every op is sent: "+
		"app (the seed applications' statements, one per round trip, reads before writes), "+
		"pipelined (as few pipelined round trips as possible), single (one statement per op)")
	fs.StringVar(&o.drv.RetryProtocol, "retry-protocol", "", "after a serialization failure: full (roll back and run the whole transaction again) or "+
		"savepoint (ROLLBACK TO SAVEPOINT cockroach_restart and retry inside the transaction); default savepoint on CockroachDB, full on PostgreSQL")
}

// resolveShape settles the retry protocol for server once the pool is
// open, and returns the one-line note to print about it ("" for none).
func (o *runOpts) resolveShape(server results.ServerInfo) string {
	if o.drv.RetryProtocol == "" {
		o.drv.RetryProtocol = driver.DefaultProtocol(server.CockroachDB)
	}
	if note := driver.ProtocolNote(o.drv.RetryProtocol, server.CockroachDB); note != "" {
		return "authbench: note: --retry-protocol savepoint on PostgreSQL: " + note
	}
	return ""
}

// shape returns the summary's shape fields of a run of a workload.
func (o *runOpts) shape() (style, protocol string) {
	return o.txnStyle, o.drv.RetryProtocol
}

// validate checks the flags shared by run and handshake.
// validateFleet checks the fleet flags, which only run registers (other
// commands leave Instances at 0: one instance).
func (o *runOpts) validateFleet() error {
	if o.drv.Instances == 0 {
		return usagef("--instances must be at least 1 (one application instance is the default), got 0")
	}
	if o.rotateSpread > 0 && (o.rotateEvery == 0 || o.drv.Instances < 2) {
		return usagef("--rotate-spread spreads each forced rotation over a fleet's instances: add --rotate-every and --instances N (N > 1), or leave --rotate-spread out")
	}
	return nil
}

func (o *runOpts) validate() error {
	o.drv.Seed = uint64(o.seed)
	switch o.connMode {
	case "pool", "":
	case "per-txn":
		o.drv.ConnPerTxn = true
	default:
		return usagef("--conn-mode must be pool or per-txn, got %q", o.connMode)
	}
	if o.lifetime.jitter < 0 || o.rotateEvery < 0 || o.rotateSpread < 0 {
		return usagef("--max-conn-lifetime-jitter, --rotate-every and --rotate-spread must not be negative")
	}
	if o.isFleet() && o.drv.ConnPerTxn {
		return usagef("--instances and --pool-size hold pools of connections: use them with --conn-mode pool")
	}
	if o.startAt != "" {
		if _, err := time.Parse(time.RFC3339, o.startAt); err != nil {
			return usagef("--start-at must be an RFC 3339 time such as 2026-11-23T10:00:00Z, got %q", o.startAt)
		}
	}
	if err := workloads.CheckTxnStyle(o.txnStyle); err != nil {
		return usagef("--txn-style: %v", err)
	}
	if err := o.drv.Validate(); err != nil {
		return usageErr(err)
	}
	_, err := o.mode()
	return err
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run")
	var o runOpts
	o.register(fs, args, stderr)
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
	if err := o.validate(); err != nil {
		return err
	}
	if err := o.validateFleet(); err != nil {
		return err
	}
	o.instanceArgs = modeArgs(fs)[o.auth]
	if err := validateWorkload(w); err != nil {
		return err
	}
	return execRun(ctx, &o, workloadJob(w), redactedFlags(fs), stdout)
}

// job is what a run executes: a workload's ops, or (handshake) connections.
type job struct {
	name     string
	ops      []string
	workload workloads.Workload // nil for handshake
}

func workloadJob(w workloads.Workload) job {
	return job{name: w.Meta().Name, ops: w.Ops(), workload: w}
}

// execRun opens the pool, prepares the workload, runs the load and writes
// the run directory; Ctrl-C still writes everything.
func execRun(ctx context.Context, o *runOpts, j job, cfgMap map[string]string, stdout io.Writer) error {
	reg := results.NewRegistry(j.ops, o.drv.MaxRate > 0, time.Now())
	var fl *driver.Fleet
	var p *pool
	var err error
	if o.isFleet() {
		fl, p, err = o.openFleet(ctx, reg, stdout)
	} else {
		p, err = o.openPool(ctx, o.drv.Concurrency, reg)
	}
	if err != nil {
		return err
	}
	if fl != nil {
		defer fl.Close()
	} else {
		defer p.Close()
	}
	if err := checkRotations(o, p); err != nil {
		return err
	}
	run := &workloads.RunInfo{TxnStyle: o.txnStyle}
	_, _ = rand.Read(run.RunID[:])
	shape := ""
	if j.workload != nil {
		if note := o.resolveShape(p.server); note != "" {
			fmt.Fprintln(stdout, note)
		}
		s := results.Summary{}
		s.TxnStyle, s.RetryProtocol = o.shape()
		shape = s.Shape()
		if err := j.workload.Prepare(ctx, p.Pool, run); err != nil {
			return err
		}
	} else {
		p.Reset() // handshake: no idle connection left from the first check
		reg.ResetConnStats()
	}
	if err := waitStart(ctx, o.startAt, stdout); err != nil {
		return err
	}
	start := time.Now()
	dir := o.out
	if dir == "" {
		dir = filepath.Join("runs", fmt.Sprintf("%s-%s-%s", start.Format("20060102-150405"), j.name, o.auth))
	}
	files, err := results.CreateRunFiles(dir, j.ops, start.UnixMilli())
	if err != nil {
		return err
	}
	reg.Restart(start)
	stopMetrics, err := serveMetrics(o.metricsAddr, reg, j.name, o.auth, &o.drv, stdout)
	if err != nil {
		files.Close()
		return err
	}
	defer stopMetrics()
	fmt.Fprintf(stdout, "authbench: %s%s with --auth %s as %s on %s (%s), %d workers, %s; writing %s\n",
		j.name, shapeText(shape), o.auth, p.user, p.Config().ConnConfig.Host, serverName(p.server), o.drv.Concurrency, describeStop(&o.drv), dir)
	out := stdout
	if o.quiet {
		out = io.Discard
	}
	stopRotations := startRotations(ctx, o, p, fl, reg)
	drv := &driver.Run{Config: o.drv, DB: p.Pool, Workload: j.workload, Registry: reg, Files: files, Out: out, Shape: shape}
	if fl != nil {
		drv.Pools = fl.Pools()
		sweepCtx, stopSweep := context.WithCancel(ctx)
		defer stopSweep()
		go fl.Sweep(sweepCtx, fleetSweep)
	}
	res := drv.Execute(ctx)
	stopRotations()
	s := reg.Summary(time.Now(), files.Points())
	s.Command, s.Workload, s.AuthMode, s.RunID = "run", j.name, o.auth, hex.EncodeToString(run.RunID[:])
	if j.workload == nil {
		s.Command = "handshake"
	}
	s.Config, s.Server, s.Interrupted, s.StopReason = cfgMap, p.server, res.Interrupted, res.StopReason
	s.AuthConf = p.mode.Settings()
	if f, ok := j.workload.(workloads.Facter); ok {
		s.Facts = f.Facts()
	}
	if j.workload != nil {
		s.TxnStyle, s.RetryProtocol = o.shape()
	}
	herr := reg.WriteHandshakeLog(dir)
	if err := finishRun(files, s, stdout); err != nil {
		return err
	}
	if herr != nil {
		return fmt.Errorf("writing handshake.hlog: %v", herr)
	}
	switch {
	case res.Interrupted:
		return fmt.Errorf("interrupted; the partial results are in %s", dir)
	case res.Err != nil:
		return fmt.Errorf("stopped after a failed %s: %s (class %s; add --tolerate-errors to keep going); results in %s",
			opNoun(j), oneLine(res.Err.Error()), driver.Classify(res.Err), dir)
	}
	return nil
}

// shapeText is the shape in the run's first line: " (app, full retries)".
func shapeText(shape string) string {
	if shape == "" {
		return ""
	}
	return " (" + shape + ")"
}

func opNoun(j job) string {
	if j.workload == nil {
		return "connection"
	}
	return "transaction"
}

// waitStart waits until --start-at, so that drivers on several machines
// start their seconds together.
func waitStart(ctx context.Context, startAt string, stdout io.Writer) error {
	if startAt == "" {
		return nil
	}
	at, _ := time.Parse(time.RFC3339, startAt) // validated with the flags
	wait := time.Until(at)
	if wait < -time.Minute {
		return fmt.Errorf("--start-at %s is more than a minute in the past: pick a time ahead of every driver's start", startAt)
	}
	if wait <= 0 {
		return nil
	}
	fmt.Fprintf(stdout, "authbench: waiting %s until --start-at %s\n", wait.Round(time.Second), startAt)
	select {
	case <-time.After(wait):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("interrupted while waiting for --start-at")
	}
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
