package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// transferScript is the bank transfer as a pgbench script: the statements
// of workloads/bank in one SERIALIZABLE transaction (the server default),
// two distinct random accounts and an amount, a fresh transfer id.
const transferScript = `\set src random(0, :naccounts - 1)
\set dst random(0, :naccounts - 2)
\set dst :dst + case when :dst >= :src then 1 else 0 end
\set amount random(1, :maxamount)
BEGIN;
INSERT INTO transfers (id, run_id, src, dst, amount) VALUES (gen_random_uuid(), :runid, :src, :dst, :amount) ON CONFLICT (id) DO NOTHING;
UPDATE accounts SET balance = balance - :amount WHERE id = :src AND balance >= :amount;
UPDATE accounts SET balance = balance + :amount WHERE id = :dst;
END;
`

// selectScript is the select-only transaction of the handshake runs.
const selectScript = "SELECT 1;\n"

// pgbenchRunID marks the transfers pgbench records (authbench uses a
// random run id per run).
const pgbenchRunID = "00000000-0000-4000-8000-00000000b0b0"

// maxAmount is the bank workload's default --max-amount.
const maxAmount = 100

// scripts are the paths of the pgbench scripts in the run directory.
type scripts struct {
	transfer, selectOnly string
	shapes               map[string]string // transfer-<style>.sql by style
}

// writeScripts writes the pgbench scripts into dir.
func writeScripts(dir string) (scripts, error) {
	sc := scripts{transfer: filepath.Join(dir, "transfer.sql"), selectOnly: filepath.Join(dir, "select.sql")}
	for path, text := range map[string]string{sc.transfer: transferScript, sc.selectOnly: selectScript} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return sc, err
		}
	}
	var err error
	sc.shapes, err = writeShapeScripts(dir)
	return sc, err
}

// transferArgs are pgbench's arguments for the transfer: prepared
// statements (what pgx's statement cache amounts to), failed serializable
// transactions retried up to maxRetries times, like authbench's
// --max-retries. rate > 0 adds -R and per-transaction logs under logPrefix.
func transferArgs(script string, cfg *Config, maxRetries int, rate float64, logPrefix string) []string {
	args := []string{
		"-n", "-M", "prepared", "-f", script,
		"-D", "naccounts=" + strconv.Itoa(cfg.Accounts), "-D", "maxamount=" + strconv.Itoa(maxAmount),
		"-D", "runid=" + pgbenchRunID,
		"-c", strconv.Itoa(cfg.Clients), "-j", strconv.Itoa(cfg.threads()),
		"-T", seconds(cfg.Duration),
		"--max-tries=" + strconv.Itoa(maxRetries+1), "--failures-detailed",
	}
	if rate > 0 {
		args = append(args, "-R", strconv.FormatFloat(rate, 'f', 1, 64), "-l", "--log-prefix", logPrefix)
	}
	return args
}

// handshakeArgs are pgbench's arguments for a new connection per
// select-only transaction, one thread per client: pgbench connects
// synchronously, so clients sharing a thread would wait for each other.
func handshakeArgs(script string, cfg *Config) []string {
	return []string{
		"-n", "-C", "-f", script, "-c", strconv.Itoa(cfg.Clients), "-j", strconv.Itoa(cfg.Clients),
		"-T", seconds(cfg.HandshakeDuration),
	}
}

func seconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(d.Seconds()+0.5)))
}

// pgbenchResult is what pgbench printed at the end of a run.
type pgbenchResult struct {
	TPS       float64 // tps, without initial connection time (with -C: including reconnections)
	Processed int64   // transactions actually processed (committed)
	Failed    int64   // failed after the last try
	Retried   int64   // transactions retried at least once
	Retries   int64   // total retries
	AvgConnMs float64 // average connection time (with -C)
}

var (
	rePgTPS       = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(`)
	rePgProcessed = regexp.MustCompile(`(?m)^number of transactions actually processed: ([0-9]+)`)
	rePgFailed    = regexp.MustCompile(`(?m)^number of failed transactions: ([0-9]+)`)
	rePgRetried   = regexp.MustCompile(`(?m)^number of transactions retried: ([0-9]+)`)
	rePgRetries   = regexp.MustCompile(`(?m)^total number of retries: ([0-9]+)`)
	rePgConn      = regexp.MustCompile(`(?m)^average connection time = ([0-9.]+) ms`)
)

// parsePgbench reads pgbench's final report; tps and the processed count
// are required, the rest is there only with the options that print it.
func parsePgbench(out string) (pgbenchResult, error) {
	var r pgbenchResult
	tps, ok := findFloat(rePgTPS, out)
	if !ok {
		return r, fmt.Errorf("no tps line in pgbench's output")
	}
	n, ok := findFloat(rePgProcessed, out)
	if !ok {
		return r, fmt.Errorf("no processed-transactions line in pgbench's output")
	}
	r.TPS, r.Processed = tps, int64(n)
	f, _ := findFloat(rePgFailed, out)
	rt, _ := findFloat(rePgRetried, out)
	rs, _ := findFloat(rePgRetries, out)
	r.Failed, r.Retried, r.Retries = int64(f), int64(rt), int64(rs)
	r.AvgConnMs, _ = findFloat(rePgConn, out)
	return r, nil
}

func findFloat(re *regexp.Regexp, s string) (float64, bool) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}
