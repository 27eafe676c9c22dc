package bench

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// throughputRun runs the transfer in a closed loop with one tool.
func throughputRun(rc *runCtx, rep int, tool string) (sample, error) {
	if err := resetBank(rc); err != nil {
		return sample{}, err
	}
	if tool == toolPgbench {
		s, _, err := runPgbench(rc, transferArgs(rc.scripts.transfer, rc.cfg, maxRetries, 0, ""))
		return s, err
	}
	s, _, err := runAuthbench(rc, bankArgs(rc, rep)...)
	return s, err
}

// handshakeRun opens and closes connections with one tool.
func handshakeRun(rc *runCtx, rep int, tool string) (sample, error) {
	if tool == toolPgbench {
		s, _, err := runPgbench(rc, handshakeArgs(rc.scripts.selectOnly, rc.cfg))
		return s, err
	}
	s, sum, err := runAuthbench(rc, "handshake", "--duration", rc.cfg.HandshakeDuration.String())
	if err == nil {
		s.AvgConnMs = sum.Connections.AvgConnectMs
	}
	return s, err
}

// openLoopRun returns a runOne that runs the transfer at a fixed rate and
// records the p99 latency measured from each transaction's intended start.
func openLoopRun(rate float64) runOne {
	return func(rc *runCtx, rep int, tool string) (sample, error) {
		if err := resetBank(rc); err != nil {
			return sample{}, err
		}
		if tool == toolPgbench {
			prefix := filepath.Join(rc.dir, "pgbench_log")
			s, _, err := runPgbench(rc, transferArgs(rc.scripts.transfer, rc.cfg, maxRetries, rate, prefix))
			if err != nil {
				return s, err
			}
			lat, err := logLatencies(prefix)
			if err != nil {
				return s, err
			}
			s.P99Ms = float64(percentile(lat, 99)) / 1000
			return s, nil
		}
		args := append(bankArgs(rc, rep), "--max-rate", strconv.FormatFloat(rate, 'f', 1, 64))
		s, sum, err := runAuthbench(rc, args...)
		if err == nil && len(sum.Ops) > 0 {
			s.P99Ms = sum.Ops[0].Latency.P99
		}
		return s, err
	}
}

// bankArgs are authbench's arguments for the transfer: retries and error
// handling as pgbench's, a seed per repetition.
func bankArgs(rc *runCtx, rep int) []string {
	return []string{"run", "bank", "--duration", rc.cfg.Duration.String(),
		"--max-retries", strconv.Itoa(maxRetries), "--tolerate-errors", "--seed", strconv.Itoa(rep + 1)}
}

// resetBank loads the bank afresh before every transfer run, so that each
// starts from the same tables (transfers would otherwise keep growing),
// then vacuums, analyses and checkpoints as the superuser, so that no run
// pays for the previous one's dirty pages.
func resetBank(rc *runCtx) error {
	dir := rc.dir
	_, err := runProc(rc.ctx, filepath.Join(dir, "init.out"), rc.bs.authbenchEnv(), rc.cfg.Authbench,
		"init", "bank", "--auth", "cert", "--accounts", strconv.Itoa(rc.cfg.Accounts))
	if err != nil {
		return fmt.Errorf("loading the bank: %w", err)
	}
	_, err = runProc(rc.ctx, filepath.Join(dir, "vacuum.out"), rc.bs.adminEnv(), "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-c", "VACUUM ANALYZE accounts", "-c", "VACUUM ANALYZE transfers", "-c", "CHECKPOINT")
	if err != nil {
		return fmt.Errorf("vacuum and checkpoint: %w", err)
	}
	return nil
}
