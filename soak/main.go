// Command soak runs `authbench matrix` over every auth mode with a forced
// credential rotation every 30 s for a given total time, on a local stack
// of its own, and watches the resident memory (VmRSS) of each driver
// process the matrix starts. Each driver's memory at the end must be
// within ±20 % of its value after the first minute (HDR histograms per
// tick, nothing kept per op), and every run's invariants must hold
// (`authbench check`). `make soak DURATION=10m` runs it; it is not part of
// `make test`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/authbench/authbench/stack"
	_ "github.com/authbench/authbench/stack/all" // every component, the base included
	"github.com/authbench/authbench/stack/kdc"
	"github.com/authbench/authbench/stack/spiffe"
	"github.com/authbench/authbench/stack/vault"
)

// options are the soak's flags.
type options struct {
	bin         string
	duration    time.Duration
	auths       string
	workloads   string
	rotateEvery time.Duration
	concurrency int
	maxRate     int
	warmup      time.Duration
	tolerance   float64
	every       time.Duration
	out         string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/authbench", "the authbench binary (make build)")
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "total soak time, shared by the matrix's runs")
	flag.StringVar(&o.auths, "auth", "cert,password,gssapi,spiffe,vault", "auth modes of the matrix")
	flag.StringVar(&o.workloads, "workloads", "bank", "workloads of the matrix")
	flag.DurationVar(&o.rotateEvery, "rotate-every", 30*time.Second, "forced credential rotation period of every run")
	flag.IntVar(&o.concurrency, "concurrency", 8, "workers of every run")
	flag.IntVar(&o.maxRate, "max-rate", 1000, "open-loop ops/s of every run (a steady load; 0 = closed loop)")
	flag.DurationVar(&o.warmup, "warmup", time.Minute, "a driver's memory baseline is read this long after it starts")
	flag.Float64Var(&o.tolerance, "tolerance", 0.20, "allowed change of resident memory from the baseline to the end")
	flag.DurationVar(&o.every, "sample-every", 2*time.Second, "how often resident memory is read")
	flag.StringVar(&o.out, "out", "", "matrix directory (default runs/soak-<timestamp>)")
	flag.Parse()
	if err := soak(&o); err != nil {
		fmt.Fprintf(os.Stderr, "soak: %s\n", err)
		os.Exit(1)
	}
}

// soak starts the stack, runs and watches the matrix, checks every run.
func soak(o *options) error {
	runs := len(strings.Split(o.auths, ",")) * len(strings.Split(o.workloads, ","))
	per := (o.duration / time.Duration(runs)).Round(time.Second)
	if per < 10*time.Second {
		return fmt.Errorf("-duration %s over %d runs leaves %s each: give at least %s", o.duration, runs, per, 10*time.Second*time.Duration(runs))
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("no authbench binary at %s: run `make build` (or pass -bin)", bin)
	}
	if o.out == "" {
		o.out = filepath.Join("runs", "soak-"+time.Now().Format("20060102-150405"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, down, err := startStack(ctx, bin)
	if err != nil {
		return err
	}
	defer down()
	fmt.Printf("soak: %d runs of %s (%s × %s), rotation every %s, %d workers at %d ops/s; memory sampled every %s\n",
		runs, per, o.workloads, o.auths, o.rotateEvery, o.concurrency, o.maxRate, o.every)
	verdicts, matrixErr := runMatrix(ctx, o, bin, per, st.Environ())
	memOK := printVerdicts(os.Stdout, verdicts, o.tolerance)
	checkOK := checkRuns(ctx, o, bin, st.Environ())
	fmt.Printf("\nrun directories: %s\n", o.out)
	if matrixErr != nil || !memOK || !checkOK {
		return fmt.Errorf("FAILED: matrix %v, memory flat %v, invariants hold %v", orOK(matrixErr), memOK, checkOK)
	}
	fmt.Println("soak: ok — every driver's memory stayed flat and every invariant holds")
	return nil
}

// startStack brings up a stack with every auth component in a temporary
// directory; the returned func stops and removes it.
func startStack(ctx context.Context, bin string) (*stack.State, func(), error) {
	upCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cfg := stack.Config{Exe: bin}
	kdc.Enable(&cfg, kdc.Settings{TicketLifetime: 2 * time.Minute})
	spiffe.Enable(&cfg, spiffe.Settings{TTL: time.Minute})
	vault.Enable(&cfg, vault.Settings{})
	st, err := stack.UpTemp(upCtx, "authbench-soak-", cfg, os.Stderr)
	if err != nil {
		return nil, nil, err
	}
	return st, func() {
		if err := stack.Discard(st.Dir, os.Stderr); err != nil {
			fmt.Fprintf(os.Stderr, "soak: stack down: %v\n", err)
		}
	}, nil
}

// runMatrix runs the matrix while a watcher samples its children, and
// judges every driver's memory.
func runMatrix(ctx context.Context, o *options, bin string, per time.Duration, env []string) ([]verdict, error) {
	cmd := exec.CommandContext(ctx, bin, "matrix", "--workloads", o.workloads, "--auth", o.auths,
		"--duration", per.String(), "--rotate-every", o.rotateEvery.String(), "--concurrency", fmt.Sprint(o.concurrency),
		"--max-rate", fmt.Sprint(o.maxRate), "--tolerate-errors", "--metrics-addr", "", "--out", o.out)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, os.Stdout, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // the matrix stops its run and writes it
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := newWatcher(cmd.Process.Pid)
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() { defer close(watched); w.run(o.every, stopWatch) }()
	err := cmd.Wait()
	close(stopWatch)
	<-watched
	if err != nil {
		err = fmt.Errorf("authbench matrix: %v (logs in %s)", err, o.out)
	}
	var vs []verdict
	for _, p := range w.seen() {
		if isDriver(p) {
			vs = append(vs, judge(p, o.warmup, o.tolerance))
		}
	}
	return vs, err
}

func orOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// checkRuns runs `authbench check` on every run directory of the matrix.
func checkRuns(ctx context.Context, o *options, bin string, env []string) bool {
	ok := true
	fmt.Println("\ninvariants (authbench check):")
	for _, w := range strings.Split(o.workloads, ",") {
		for _, a := range strings.Split(o.auths, ",") {
			dir := filepath.Join(o.out, w+"-"+a)
			cmd := exec.CommandContext(ctx, bin, "check", w, "--run", dir)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			line := strings.TrimSpace(string(out))
			if err != nil {
				ok = false
				line = "FAIL " + line
			}
			fmt.Printf("  %-16s %s\n", w+"-"+a, line)
		}
	}
	return ok
}
