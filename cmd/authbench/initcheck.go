package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

const (
	initUsage  = "init WORKLOAD [--auth MODE] [workload flags, e.g. --accounts N --initial-balance B]"
	checkUsage = "check WORKLOAD --run DIR [--auth MODE]"
)

func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("init")
	var c connFlags
	c.register(fs)
	w, rest, err := workloadArg("init", args, fs)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, initUsage, rest, stdout); err != nil || w == nil {
		return err
	}
	initer, ok := w.(workloads.Initer)
	if !ok {
		return fmt.Errorf("workload %s has nothing to load", w.Meta().Name)
	}
	p, err := c.openPool(ctx, 4, results.NewRegistry(nil, false, time.Now()))
	if err != nil {
		return err
	}
	defer p.Close()
	start := time.Now()
	if err := initer.Init(ctx, p.Pool, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: initialised in %s as %s on %s\n", w.Meta().Name, time.Since(start).Round(time.Millisecond), p.user, serverName(p.server))
	return nil
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check")
	var c connFlags
	c.register(fs)
	runDir := fs.String("run", "", "run directory whose committed ops are checked against the database (optional)")
	w, rest, err := workloadArg("check", args, fs)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, checkUsage, rest, stdout); err != nil || w == nil {
		return err
	}
	checker, ok := w.(workloads.Checker)
	if !ok {
		return fmt.Errorf("workload %s has no invariants to check", w.Meta().Name)
	}
	var info *workloads.RunInfo
	if *runDir != "" {
		if info, err = runInfoFrom(*runDir, w.Meta().Name); err != nil {
			return err
		}
	}
	p, err := c.openPool(ctx, 2, results.NewRegistry(nil, false, time.Now()))
	if err != nil {
		return err
	}
	defer p.Close()
	problems, err := checker.Check(ctx, p.Pool, info)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		for _, pr := range problems {
			fmt.Fprintf(stdout, "FAIL %s\n", pr)
		}
		return fmt.Errorf("%d invariant(s) of %s do not hold", len(problems), w.Meta().Name)
	}
	fmt.Fprintf(stdout, "ok: every invariant of %s holds%s\n", w.Meta().Name, describeRun(info))
	return nil
}

// runInfoFrom reads a run directory's summary for check.
func runInfoFrom(dir, workload string) (*workloads.RunInfo, error) {
	s, err := results.ReadSummary(dir)
	if err != nil {
		return nil, err
	}
	if s.Workload != workload {
		return nil, fmt.Errorf("run directory %s is from workload %s, not %s: check `authbench check %s --run %s`", dir, s.Workload, workload, s.Workload, dir)
	}
	id, err := hex.DecodeString(s.RunID)
	if err != nil || len(id) != 16 {
		return nil, fmt.Errorf("run directory %s has no valid run_id in summary.json", dir)
	}
	info := &workloads.RunInfo{Committed: map[string]int64{}}
	copy(info.RunID[:], id)
	for _, o := range s.Ops {
		info.Committed[o.Op] = o.Committed
	}
	return info, nil
}

func describeRun(info *workloads.RunInfo) string {
	if info == nil {
		return ""
	}
	var parts []string
	for op, n := range info.Committed {
		parts = append(parts, fmt.Sprintf("%d %s", n, op))
	}
	return " (run " + hex.EncodeToString(info.RunID[:4]) + "…: " + strings.Join(parts, ", ") + " committed and recorded)"
}
