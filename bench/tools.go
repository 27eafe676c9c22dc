package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/authbench/authbench/results"
)

// Tool names, as they appear in the report.
const (
	toolPgbench   = "pgbench"
	toolAuthbench = "authbench"
)

// maxRetries is authbench's --max-retries and pgbench's --max-tries - 1.
const maxRetries = 30

// sample is one tool's numbers from one run.
type sample struct {
	Tool        string  `json:"tool"`
	TPS         float64 `json:"tps,omitempty"`            // committed transactions (or connections) per second
	Committed   int64   `json:"committed,omitempty"`      // committed transactions (or connections)
	Retries     int64   `json:"retries,omitempty"`        // retries of serializable transactions
	Failed      int64   `json:"failed,omitempty"`         // failed after the last retry
	CPUPerOpUs  float64 `json:"cpu_per_op_us,omitempty"`  // the process's user+sys CPU time per committed op
	AvgConnMs   float64 `json:"avg_conn_ms,omitempty"`    // average connection time (handshake)
	P99Ms       float64 `json:"p99_ms,omitempty"`         // p99 latency from the intended start (open loop)
	Load1       float64 `json:"load1"`                    // 1-minute load average just before the run
	ServerVer   string  `json:"server_version,omitempty"` // from authbench's summary
	OutputDir   string  `json:"output"`
	ProcessCPUs float64 `json:"process_cpu_s"`
}

// runCtx is what every run of one pair shares.
type runCtx struct {
	ctx     context.Context
	cfg     *Config
	bs      *benchStack
	mode    string
	dir     string // this run's own directory
	scripts scripts
	env     []string // added to the Go clients' environment (floor section), e.g. GOMAXPROCS=1
}

// finish fills the fields every sample has from the process.
func (s *sample) finish(p procResult, dir string, load float64) {
	s.OutputDir, s.Load1, s.ProcessCPUs = dir, load, p.CPU.Seconds()
	if s.Committed > 0 {
		s.CPUPerOpUs = float64(p.CPU.Microseconds()) / float64(s.Committed)
	}
}

// runPgbench runs pgbench with args in rc's mode and parses its report.
func runPgbench(rc *runCtx, args []string) (sample, pgbenchResult, error) {
	env, err := rc.bs.libpqEnv(rc.mode)
	if err != nil {
		return sample{}, pgbenchResult{}, err
	}
	load := loadAverage()
	p, err := runProc(rc.ctx, filepath.Join(rc.dir, "pgbench.out"), env, rc.cfg.Pgbench, args...)
	if err != nil {
		return sample{}, pgbenchResult{}, err
	}
	r, err := parsePgbench(p.Stdout)
	if err != nil {
		return sample{}, r, fmt.Errorf("%v (see %s)", err, filepath.Join(rc.dir, "pgbench.out"))
	}
	s := sample{Tool: toolPgbench, TPS: r.TPS, Committed: r.Processed, Retries: r.Retries, Failed: r.Failed, AvgConnMs: r.AvgConnMs}
	s.finish(p, rc.dir, load)
	return s, r, nil
}

// runAuthbench runs `authbench <args> --auth mode` with its run directory
// under rc.dir, without the metrics endpoint or per-second lines (pgbench
// prints neither), and reads its summary.json.
func runAuthbench(rc *runCtx, args ...string) (sample, *results.Summary, error) {
	out := filepath.Join(rc.dir, "run")
	args = append(args, "--auth", rc.mode, "--concurrency", strconv.Itoa(rc.cfg.Clients),
		"--metrics-addr", "", "--quiet", "--out", out)
	load := loadAverage()
	p, err := runProc(rc.ctx, filepath.Join(rc.dir, "authbench.out"), append(rc.bs.authbenchEnv(), rc.env...), rc.cfg.Authbench, args...)
	if err != nil {
		return sample{}, nil, err
	}
	sum, err := results.ReadSummary(out)
	if err != nil {
		return sample{}, nil, err
	}
	s := sample{Tool: toolAuthbench, ServerVer: sum.Server.Version}
	if len(sum.Ops) > 0 {
		op := sum.Ops[0]
		s.TPS, s.Committed, s.Retries, s.Failed = op.OpsPerSec, op.Committed, op.Retries, op.Errors
	}
	s.finish(p, rc.dir, load)
	return s, sum, nil
}
