package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

const matrixUsage = "matrix --workloads bank,orders --auth password,cert,gssapi,spiffe,vault --duration D [--rotate-every R] [auth mode flags] [flags]"

// matrixOpts are the flags of `authbench matrix`.
type matrixOpts struct {
	workloads, auths []string
	styles           []string // transaction styles; every one runs with every workload and auth mode
	out              string
	init             bool
	runArgs          []string            // passed to every run
	modeArgs         map[string][]string // passed to the runs of one auth mode: its flags given
}

func runMatrix(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("matrix")
	var m matrixOpts
	fs.StringSliceVar(&m.workloads, "workloads", []string{"bank"}, "workloads to run: "+strings.Join(workloads.Names(), ", "))
	fs.StringSliceVar(&m.auths, "auth", authmodes.Names(), "auth modes to run; each mode's flags are passed to its runs")
	addModeFlags(fs, args, true, authmodes.Names(), stderr)
	fs.StringVar(&m.out, "out", "", "matrix directory (default runs/matrix-<timestamp>); one run directory per combination inside")
	fs.BoolVar(&m.init, "init", true, "load each workload's data once before its runs")
	fs.StringSliceVar(&m.styles, "txn-style", []string{workloads.StylePipelined}, "transaction styles to run, side by side: "+strings.Join(workloads.TxnStyles, ", "))
	pass := map[string]*string{}
	for _, f := range []struct{ name, def, usage string }{
		{"duration", "20s", "measured duration of each run"},
		{"ramp", "2s", "warm-up of each run"},
		{"concurrency", "8", "workers of each run"},
		{"rotate-every", "0s", "force a credential rotation this often in each run"},
		{"max-rate", "0", "open-loop rate of each run (0 = closed loop)"},
		{"seed", "1", "seed of every run (the same for all, so the load is the same)"},
		{"conn-mode", "pool", "pool or per-txn"},
		{"retry-protocol", "", "full or savepoint (default: savepoint on CockroachDB, full on PostgreSQL)"},
		{"metrics-addr", "127.0.0.1:2112", "metrics address of each run (empty disables)"},
	} {
		pass[f.name] = fs.String(f.name, f.def, f.usage)
	}
	tolerate := fs.Bool("tolerate-errors", false, "keep each run going after failed transactions")
	if err := parseFlags(fs, matrixUsage, args, stdout); err != nil {
		return err
	}
	if err := m.validate(); err != nil {
		return err
	}
	for name, v := range pass {
		if fs.Changed(name) || name == "duration" || name == "ramp" {
			m.runArgs = append(m.runArgs, "--"+name+"="+*v)
		}
	}
	if *tolerate {
		m.runArgs = append(m.runArgs, "--tolerate-errors")
	}
	m.modeArgs = modeArgs(fs)
	return m.execute(ctx, stdout)
}

func (m *matrixOpts) validate() error {
	for _, w := range m.workloads {
		if _, err := workloads.Lookup(w); err != nil {
			return &usageError{msg: err.Error()}
		}
	}
	for _, a := range m.auths {
		if _, err := authmodes.Lookup(a); err != nil {
			return &usageError{msg: err.Error()}
		}
	}
	for _, st := range m.styles {
		if err := workloads.CheckTxnStyle(st); err != nil || st == "" {
			return usagef("--txn-style: unknown transaction style %q: use %s", st, strings.Join(workloads.TxnStyles, ", "))
		}
	}
	if len(m.workloads) == 0 || len(m.auths) == 0 || len(m.styles) == 0 {
		return usagef("--workloads, --auth and --txn-style must each name at least one")
	}
	return nil
}

// execute runs every combination one after another as a child `authbench
// run` (a clean process each, the same seed and load), then writes and
// prints the comparison.
func (m *matrixOpts) execute(ctx context.Context, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find the authbench binary: %v", err)
	}
	if m.out == "" {
		m.out = filepath.Join("runs", "matrix-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(m.out, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %v (choose another with --out)", m.out, err)
	}
	var rows []matrixRow
	total := len(m.workloads) * len(m.auths) * len(m.styles)
	for _, w := range m.workloads {
		if m.init {
			initArgs := append([]string{"init", w, "--auth", m.auths[0]}, m.modeArgs[m.auths[0]]...)
			if err := m.child(ctx, exe, filepath.Join(m.out, "init-"+w+".log"), initArgs...); err != nil {
				return fmt.Errorf("init %s: %v", w, err)
			}
		}
		for _, a := range m.auths {
			for _, st := range m.styles {
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted; finished runs are in %s", m.out)
				}
				row := m.runOne(ctx, exe, w, a, st)
				rows = append(rows, row)
				fmt.Fprintf(stdout, "[%d/%d] %s\n", len(rows), total, row.line())
			}
		}
	}
	return writeMatrix(m.out, rows, stdout)
}

// runOne runs one combination and reads its summary. With one style the
// run directory is WORKLOAD-AUTH as before; with several, WORKLOAD-STYLE-AUTH.
func (m *matrixOpts) runOne(ctx context.Context, exe, w, a, style string) matrixRow {
	name := w + "-" + a
	if len(m.styles) > 1 {
		name = w + "-" + style + "-" + a
	}
	dir := filepath.Join(m.out, name)
	args := append([]string{"run", w, "--auth", a, "--txn-style", style, "--out", dir, "--quiet"}, m.runArgs...)
	args = append(args, m.modeArgs[a]...)
	row := matrixRow{workload: w, auth: a, dir: dir}
	if err := m.child(ctx, exe, filepath.Join(m.out, name+".log"), args...); err != nil {
		row.err = err.Error()
	}
	if s, err := results.ReadSummary(dir); err == nil {
		row.summary = s
	} else if row.err == "" {
		row.err = err.Error()
	}
	return row
}

// child runs authbench with args, its output in logPath; a failure returns
// the child's last stderr line.
func (m *matrixOpts) child(ctx context.Context, exe, logPath string, args ...string) error {
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	var errBuf strings.Builder
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stdout, cmd.Stderr = logf, io.MultiWriter(logf, &errBuf)
	if err := cmd.Run(); err != nil {
		if line := strings.TrimSpace(errBuf.String()); line != "" {
			return fmt.Errorf("%s", lastLineOf(line))
		}
		return err
	}
	return nil
}

func lastLineOf(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
