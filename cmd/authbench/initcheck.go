package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	c.register(fs, args, stderr)
	owner := fs.String("owner", os.Getenv("AUTHBENCH_OWNER_ROLE"), "role to own the tables, so every member can init again [$AUTHBENCH_OWNER_ROLE]")
	w, rest, err := workloadArg("init", args, fs)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, initUsage, rest, stdout); err != nil || w == nil {
		return err
	}
	if err := validateWorkload(w); err != nil {
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
	if err := giveTables(ctx, p, w, *owner); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: initialised in %s as %s on %s\n", w.Meta().Name, time.Since(start).Round(time.Millisecond), p.user, serverName(p.server))
	return nil
}

// giveTables hands the workload's tables to owner.
func giveTables(ctx context.Context, p *pool, w workloads.Workload, owner string) error {
	t, ok := w.(workloads.Tabler)
	if owner == "" || !ok {
		return nil
	}
	for _, table := range t.Tables() {
		sql := fmt.Sprintf("ALTER TABLE %s OWNER TO %s", pgx.Identifier{table}.Sanitize(), pgx.Identifier{owner}.Sanitize())
		if _, err := p.Exec(ctx, sql); err != nil {
			return fmt.Errorf("giving table %s to --owner %s: %v (is %s a member of it?)", table, owner, err, p.user)
		}
	}
	return nil
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check")
	var c connFlags
	c.register(fs, args, stderr)
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
	info := &workloads.RunInfo{Committed: map[string]int64{}, Ambiguous: map[string]int64{}}
	ids := s.RunIDs
	if len(ids) == 0 {
		ids = []string{s.RunID}
	}
	for _, h := range ids {
		id, err := hex.DecodeString(h)
		if err != nil || len(id) != 16 {
			return nil, fmt.Errorf("run directory %s has an invalid run id %q in summary.json", dir, h)
		}
		var u [16]byte
		copy(u[:], id)
		info.MergedIDs = append(info.MergedIDs, u)
	}
	info.RunID = info.MergedIDs[0]
	for _, o := range s.Ops {
		info.Committed[o.Op] = o.Committed
		info.Ambiguous[o.Op] = o.Ambiguous
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
