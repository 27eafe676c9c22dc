package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Files Run writes into Config.OutDir.
const (
	MarkdownFile = "bench.md"
	JSONFile     = "bench.json"
)

// Run brings up a stack, runs every pair and writes bench.md and
// bench.json into cfg.OutDir, also when a run fails half-way (the report
// then holds the pairs that finished). Progress goes to log.
func Run(ctx context.Context, cfg Config, log io.Writer) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, err
	}
	r := newReport(&cfg)
	rc := runCtx{ctx: ctx, cfg: &cfg}
	var err error
	if rc.scripts, err = writeScripts(cfg.OutDir); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "bench: starting a stack for the comparison; results go to %s\n", cfg.OutDir)
	if rc.bs, err = startStack(ctx, &cfg, log); err != nil {
		return nil, err
	}
	defer rc.bs.stop(cfg.KeepStack, log)
	err = r.runAll(rc, log)
	r.finish()
	if werr := r.write(cfg.OutDir); werr != nil && err == nil {
		err = werr
	}
	return r, err
}

func newReport(cfg *Config) *Report {
	return &Report{
		Started: time.Now(), Machine: thisMachine(), LoadPre: loadAverages(),
		Settings: Settings{
			Clients: cfg.Clients, PgbenchThreads: cfg.threads(), Duration: cfg.Duration.String(),
			HandshakeDuration: cfg.HandshakeDuration.String(), Reps: cfg.Reps, Accounts: cfg.Accounts,
			RateFraction: cfg.RateFraction, Rate: cfg.Rate,
		},
		Versions: map[string]string{"pgbench": toolVersion(cfg.Pgbench)},
		Rates:    map[string]float64{}, Runs: map[string][]pairRun{},
	}
}

// runAll runs the throughput pairs, every transaction shape against
// pgbench in the same statements and round trips, the floor pairs, the
// handshake pairs, then the open-loop pairs at a rate derived from the
// throughput.
func (r *Report) runAll(rc runCtx, log io.Writer) error {
	cfg := rc.cfg
	for _, mode := range cfg.Modes {
		if !cfg.runs(sectionThroughput) {
			break
		}
		rc.mode = mode
		runs, err := r.pairs(rc, sectionThroughput, log, throughputRun, throughputMeasures)
		if err != nil {
			return err
		}
		r.Rates[mode] = cfg.RateFraction * min(spreadOf(tpsOf(runs, toolPgbench)).Median, spreadOf(tpsOf(runs, toolAuthbench)).Median)
	}
	for _, mode := range cfg.Modes {
		if !cfg.runs(sectionShapes) {
			break
		}
		rc.mode = mode
		for _, st := range styles {
			section := fmt.Sprintf("shape %s, %s", st, roundTrips(shapeRoundTrips[st]))
			if _, err := r.pairs(rc, sectionShapes+"-"+st, log, shapeRun(st), shapeMeasures(st), section); err != nil {
				return err
			}
		}
	}
	for _, mode := range cfg.Modes {
		if !cfg.runs(sectionFloor) {
			break
		}
		rc.mode = mode
		if err := r.runFloor(rc, log); err != nil {
			return err
		}
	}
	for _, mode := range cfg.HandshakeModes {
		if !cfg.runs(sectionHandshake) {
			break
		}
		rc.mode = mode
		if _, err := r.pairs(rc, sectionHandshake, log, handshakeRun, handshakeMeasures); err != nil {
			return err
		}
	}
	for _, mode := range cfg.Modes {
		if !cfg.runs(sectionOpenLoop) {
			break
		}
		rc.mode = mode
		if cfg.Rate > 0 {
			r.Rates[mode] = cfg.Rate
		}
		section := fmt.Sprintf("open loop %.0f/s", r.Rates[mode])
		if _, err := r.pairs(rc, sectionOpenLoop, log, openLoopRun(r.Rates[mode]), openLoopMeasures, section); err != nil {
			return err
		}
	}
	return nil
}

// pairs runs one pair and adds its runs and rows to the report; the
// section shown in the table defaults to name.
func (r *Report) pairs(rc runCtx, name string, log io.Writer, fn runOne, ms []measure, section ...string) ([]pairRun, error) {
	runs, err := runPairs(rc, name, log, fn)
	if len(runs) > 0 {
		r.Runs[name+"-"+rc.mode] = runs
		shown := name
		if len(section) > 0 {
			shown = section[0]
		}
		r.Rows = append(r.Rows, rowsOf(shown, rc.mode, runs, ms)...)
		if v := runs[0].Authbench.ServerVer; v != "" {
			r.Versions["server"] = "PostgreSQL " + v
		}
	}
	return runs, err
}

func tpsOf(runs []pairRun, tool string) []float64 {
	var out []float64
	for _, p := range runs {
		if tool == toolPgbench {
			out = append(out, p.Pgbench.TPS)
		} else {
			out = append(out, p.Authbench.TPS)
		}
	}
	return out
}

func (r *Report) finish() {
	r.Ended = time.Now()
	r.Load = spreadOf(r.loads())
	r.Versions["go"] = r.Machine.GoVer
}

// write saves bench.json and bench.md into dir.
func (r *Report) write(dir string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, JSONFile), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, MarkdownFile), []byte(r.Markdown()), 0o644)
}

// toolVersion is the first line of `name --version`.
func toolVersion(name string) string {
	out, err := exec.Command(name, "--version").Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
