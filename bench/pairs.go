package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// pairRun is one repetition of a pair: both tools, back to back.
type pairRun struct {
	Rep       int    `json:"rep"`
	First     string `json:"first"` // which tool ran first
	Pgbench   sample `json:"pgbench"`
	Authbench sample `json:"authbench"`
}

// runOne runs one tool once; rc.dir is the run's own directory.
type runOne func(rc *runCtx, rep int, tool string) (sample, error)

// runPairs runs a pair reps times, alternating which tool goes first so
// that neither always gets the warmer (or the more loaded) slot.
func runPairs(rc runCtx, name string, log io.Writer, fn runOne) ([]pairRun, error) {
	var runs []pairRun
	for rep := 0; rep < rc.cfg.Reps; rep++ {
		order := []string{toolPgbench, toolAuthbench}
		if rep%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		pr := pairRun{Rep: rep + 1, First: order[0]}
		for _, tool := range order {
			one := rc
			one.dir = filepath.Join(rc.cfg.OutDir, "raw", fmt.Sprintf("%s-%s", name, rc.mode), fmt.Sprintf("rep%d-%s", rep+1, tool))
			if err := os.MkdirAll(one.dir, 0o755); err != nil {
				return runs, err
			}
			s, err := fn(&one, rep, tool)
			if err != nil {
				return runs, fmt.Errorf("%s %s, repetition %d, %s: %w", name, rc.mode, rep+1, tool, err)
			}
			if tool == toolPgbench {
				pr.Pgbench = s
			} else {
				pr.Authbench = s
			}
			fmt.Fprintf(log, "bench: %-10s %-8s rep %d/%d %-9s %s\n", name, rc.mode, rep+1, rc.cfg.Reps, tool, s.brief())
		}
		runs = append(runs, pr)
	}
	return runs, nil
}

// brief is a sample on one progress line.
func (s sample) brief() string {
	out := fmt.Sprintf("%9.1f/s  cpu %7.1f µs/op", s.TPS, s.CPUPerOpUs)
	if s.AvgConnMs > 0 {
		out += fmt.Sprintf("  conn %.2f ms", s.AvgConnMs)
	}
	if s.P99Ms > 0 {
		out += fmt.Sprintf("  p99 %.2f ms", s.P99Ms)
	}
	return out + fmt.Sprintf("  (load %.1f)", s.Load1)
}
