package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/authbench/authbench/stack"
	_ "github.com/authbench/authbench/stack/all" // every component, the base included
	"github.com/authbench/authbench/stack/kdc"
	"github.com/authbench/authbench/stack/postgres"
	"github.com/authbench/authbench/stack/vault"
)

// startStack brings up a stack holding maxConns connections in a temporary
// directory; the returned func stops and removes it.
func startStack(ctx context.Context, bin string, maxConns int) (*stack.State, func(), error) {
	upCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cfg := stack.Config{Exe: bin}
	cfg.Enable(postgres.Name, postgres.Settings{MaxConnections: maxConns})
	kdc.Enable(&cfg, kdc.Settings{})
	// Leases outlive the runs: the forced rotation is the only one.
	vault.Enable(&cfg, vault.Settings{DefaultTTL: 10 * time.Minute, MaxTTL: 20 * time.Minute})
	st, err := stack.UpTemp(upCtx, "authbench-storm-", cfg, os.Stderr)
	if err != nil {
		return nil, nil, err
	}
	return st, func() {
		if err := stack.Discard(st.Dir, os.Stderr); err != nil {
			fmt.Fprintf(os.Stderr, "storm: stack down: %v\n", err)
		}
	}, nil
}

// run runs one authbench command, its output to ours.
func run(ctx context.Context, bin string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("authbench %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// runOne runs one fleet with one forced rotation after the baseline,
// spread over spread, checks its invariants and returns its row.
func runOne(ctx context.Context, o *options, bin string, env []string, auth string, spread time.Duration) (row, error) {
	style := "synchronised"
	if spread > 0 {
		style = "spread " + spread.String()
	}
	dir := filepath.Join(o.out, fmt.Sprintf("%s-%s", auth, styleSlug(spread)))
	fmt.Printf("\n== storm: %s, %s: %d instances × %d connections, %d txn/s\n", auth, style, o.instances, o.poolSize, o.maxRate)
	args := []string{"run", "bank", "--auth", auth, "--instances", fmt.Sprint(o.instances), "--pool-size", fmt.Sprint(o.poolSize),
		"--concurrency", fmt.Sprint(o.concurrency), "--max-rate", fmt.Sprint(o.maxRate),
		"--duration", (o.baseline + o.after).String(), "--rotate-every", o.baseline.String(), "--rotate-spread", spread.String(),
		"--tolerate-errors", "--display-every", "5s", "--metrics-addr", "", "--out", dir}
	if auth == "vault" {
		args = append(args, "--vault-retire-jitter", "0s") // the fleet's spread is the only one
	}
	if err := run(ctx, bin, env, args...); err != nil {
		return row{}, err
	}
	if err := run(ctx, bin, env, "check", "bank", "--run", dir); err != nil {
		return row{}, err
	}
	return readRow(dir, auth, style, styleSlug(spread))
}

// styleSlug names a style in file names.
func styleSlug(spread time.Duration) string {
	if spread == 0 {
		return "sync"
	}
	return "spread"
}

// describeMachine says what the machine is and how busy, at a moment.
func describeMachine(when string) string {
	load := "?"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	mem := "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				mem = f[1] + " kB"
			}
		}
	}
	return fmt.Sprintf("%s: %d CPUs, %s memory, load average %s", when, runtime.NumCPU(), mem, load)
}
