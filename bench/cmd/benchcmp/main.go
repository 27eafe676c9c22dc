// Command benchcmp runs authbench and pgbench side by side on a local stack
// of its own and prints a Markdown table of the ratios (make bench). It
// writes the table, the raw numbers and every run's output under
// runs/bench-<timestamp>/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/bench"
	_ "github.com/authbench/authbench/stack/all" // the stack bench runs: every component
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses the flags, builds authbench when no binary is given, runs
// the comparison and prints the table; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cfg := bench.DefaultConfig()
	fs := pflag.NewFlagSet("benchcmp", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Authbench, "authbench", "", "authbench binary to measure (default: build one into the run directory)")
	fs.StringVar(&cfg.Pgbench, "pgbench", cfg.Pgbench, "pgbench binary")
	fs.StringVar(&cfg.OutDir, "out", "", "run directory (default runs/bench-<timestamp>)")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "clients of both tools (pgbench -c, authbench --concurrency)")
	fs.IntVar(&cfg.Threads, "threads", 0, "pgbench -j of the transfer runs (default min(clients, CPUs))")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of each throughput and open-loop run")
	fs.DurationVar(&cfg.HandshakeDuration, "handshake-duration", cfg.HandshakeDuration, "length of each handshake run")
	fs.IntVar(&cfg.Reps, "reps", cfg.Reps, "repetitions of each pair, alternating which tool goes first")
	fs.IntVar(&cfg.Accounts, "accounts", cfg.Accounts, "bank accounts")
	fs.StringSliceVar(&cfg.Modes, "modes", cfg.Modes, "auth modes of the throughput and open-loop pairs")
	fs.StringSliceVar(&cfg.HandshakeModes, "handshake-modes", cfg.HandshakeModes, "auth modes of the handshake pairs (gssapi adds a KDC)")
	fs.Float64Var(&cfg.RateFraction, "rate-fraction", cfg.RateFraction, "open-loop rate as a fraction of the measured maximum")
	fs.Float64Var(&cfg.Rate, "rate", 0, "open-loop rate in transactions/s (default: --rate-fraction of the measured maximum)")
	fs.StringSliceVar(&cfg.Sections, "sections", cfg.Sections, "comparisons to run: throughput, shapes (every transaction style against pgbench sending the same statements in the same round trips), handshake, openloop, floor (the cheapest Go clients and authbench against pgbench, per style and environment; not in the default)")
	fs.BoolVar(&cfg.KeepStack, "keep-stack", false, "leave the stack running afterwards")
	fs.StringVar(&cfg.Floorclient, "floorclient", "", "floorclient binary of the floor section (default: build one into the run directory)")
	fs.StringSliceVar(&cfg.FloorClients, "floor-clients", cfg.FloorClients, "clients of the floor section: authbench, pgconn, wire")
	fs.StringSliceVar(&cfg.FloorStyles, "floor-styles", cfg.FloorStyles, "transaction styles of the floor section")
	fs.StringArrayVar(&cfg.FloorEnvs, "floor-env", cfg.FloorEnvs, "environment of the floor section's Go clients, repeatable: \"\" for Go's defaults, or settings such as \"GOMAXPROCS=1\"")
	if err := fs.Parse(args); errors.Is(err, pflag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if cfg.OutDir == "" {
		cfg.OutDir = filepath.Join("runs", "bench-"+time.Now().Format("20060102-150405"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := ensureBinaries(ctx, &cfg); err != nil {
		fmt.Fprintf(stderr, "benchcmp: %v\n", err)
		return 1
	}
	rep, err := bench.Run(ctx, cfg, stderr)
	if rep != nil {
		fmt.Fprintf(stdout, "%s\nwritten to %s\n", rep.Markdown(), filepath.Join(cfg.OutDir, bench.MarkdownFile))
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchcmp: %v\n", err)
		return 1
	}
	return 0
}

// ensureBinaries builds authbench (and floorclient, when the floor section
// runs) into the run directory unless a binary was given.
func ensureBinaries(ctx context.Context, cfg *bench.Config) error {
	if err := ensureBinary(ctx, cfg.OutDir, &cfg.Authbench, "authbench", "cmd/authbench"); err != nil {
		return err
	}
	if slices.Contains(cfg.Sections, "floor") {
		return ensureBinary(ctx, cfg.OutDir, &cfg.Floorclient, "floorclient", "bench/cmd/floorclient")
	}
	return nil
}

// ensureBinary builds the package pkg of the module into dir/name unless
// *path names a binary, and makes *path absolute (the stack runs it from
// elsewhere).
func ensureBinary(ctx context.Context, dir string, path *string, name, pkg string) error {
	if *path == "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		*path = filepath.Join(dir, name)
		out, err := exec.CommandContext(ctx, "go", "build", "-o", *path, "github.com/authbench/authbench/"+pkg).CombinedOutput()
		if err != nil {
			return fmt.Errorf("building %s: %v: %s", name, err, out)
		}
	}
	abs, err := filepath.Abs(*path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("%s binary: %v (drop --%s to build one)", name, err, name)
	}
	*path = abs
	return nil
}
