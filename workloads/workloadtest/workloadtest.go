// Package workloadtest runs any registered workload through the real driver
// against a real database, for the workloads' integration tests: Pool
// connects (the tests pass the connection string of a stack they started
// with stacktest; this package knows no stack); New and Init make a
// workload from its flags; Run drives it (closed or open loop, optionally
// writing a run directory as `authbench run` does); Check, ExpectClean and
// ExpectProblem ask the workload's own invariants.
package workloadtest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

// Pool opens a pool of maxConns connections with connString (a stack's
// connection string through its load balancer, say, from stacktest); it is
// closed when the test ends. It checks that a connection works, as the
// string's user, over TLS when the string asks for it.
func Pool(t testing.TB, connString string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = maxConns
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Release()
	var user string
	if err := conn.QueryRow(ctx, `SELECT current_user`).Scan(&user); err != nil || user != cfg.ConnConfig.User {
		t.Fatalf("connected as %q (%v), want %q", user, err, cfg.ConnConfig.User)
	}
	if _, isTLS := conn.Conn().PgConn().Conn().(*tls.Conn); cfg.ConnConfig.TLSConfig != nil && !isTLS {
		t.Fatal("the connection string asks for TLS, the session is not TLS")
	}
	return pool
}

// New returns a fresh workload of the registered name with its flags
// parsed from args.
func New(t testing.TB, name string, args ...string) workloads.Workload {
	t.Helper()
	m, err := workloads.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	w := m.New()
	if err := w.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	return w
}

// Init is New, then the workload's Init on pool (its log lines go to the
// test's log).
func Init(t testing.TB, pool *pgxpool.Pool, name string, args ...string) workloads.Workload {
	t.Helper()
	w := New(t, name, args...)
	in, ok := w.(workloads.Initer)
	if !ok {
		t.Fatalf("workload %s has no init", name)
	}
	if err := in.Init(context.Background(), pool, logWriter{t}); err != nil {
		t.Fatalf("init: %v", err)
	}
	return w
}

// Load is how Run drives a workload; the zero value is 8 workers for 3 s
// in a closed loop.
type Load struct {
	Concurrency int           // workers; 8 when 0
	Duration    time.Duration // 3 s when 0
	Seed        uint64
	MaxRate     float64 // open loop at this many ops/s in total when > 0
	MaxRetries  int     // retries of one transaction; 20 when 0
	TxnStyle    string  // the workload's transaction style (workloads.Style*); "" is the default
	Protocol    string  // the driver's retry protocol (driver.Protocol*); "" is full
	// Dir, when set, is the run directory to write as `authbench run` does:
	// ticks.ndjson, the .hlog files and summary.json.
	Dir string
}

func (l Load) withDefaults() Load {
	if l.Concurrency == 0 {
		l.Concurrency = 8
	}
	if l.Duration == 0 {
		l.Duration = 3 * time.Second
	}
	if l.MaxRetries == 0 {
		l.MaxRetries = 20
	}
	return l
}

// Run prepares w for a fresh run, runs it through the driver until the
// duration ends (any error fails the test) and returns the summary and the
// run's identity with its committed and ambiguous ops, as Check wants them.
func Run(t testing.TB, pool *pgxpool.Pool, w workloads.Workload, load Load) (*results.Summary, *workloads.RunInfo) {
	t.Helper()
	load = load.withDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), load.Duration+time.Minute)
	defer cancel()
	run := &workloads.RunInfo{TxnStyle: load.TxnStyle}
	_, _ = rand.Read(run.RunID[:])
	if err := w.Prepare(ctx, pool, run); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	start := time.Now()
	reg := results.NewRegistry(w.Ops(), load.MaxRate > 0, start)
	var files *results.RunFiles
	if load.Dir != "" {
		var err error
		if files, err = results.CreateRunFiles(load.Dir, w.Ops(), start.UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	res := (&driver.Run{
		Config: driver.Config{Concurrency: load.Concurrency, Duration: load.Duration, MaxRate: load.MaxRate,
			MaxRetries: load.MaxRetries, DisplayEvery: time.Second, Seed: load.Seed, RetryProtocol: load.Protocol},
		DB: pool, Workload: w, Registry: reg, Files: files, Out: io.Discard,
	}).Execute(ctx)
	if res.Err != nil || res.StopReason != "duration" {
		t.Fatalf("run stopped by %s: %v", res.StopReason, res.Err)
	}
	var points []results.TickPoint
	if files != nil {
		points = files.Points()
	}
	sum := reg.Summary(time.Now(), points)
	sum.Command, sum.Workload, sum.AuthMode, sum.RunID = "run", w.Meta().Name, "cert", hex.EncodeToString(run.RunID[:])
	if files != nil {
		writeRunDir(t, reg, files, sum)
	}
	run.Committed, run.Ambiguous = map[string]int64{}, map[string]int64{}
	for _, op := range w.Ops() {
		run.Committed[op], run.Ambiguous[op] = sum.Op(op).Committed, sum.Op(op).Ambiguous
	}
	return sum, run
}

// writeRunDir ends the run directory as `authbench run` does.
func writeRunDir(t testing.TB, reg *results.Registry, files *results.RunFiles, sum *results.Summary) {
	t.Helper()
	if err := sum.WriteJSON(files.Dir); err != nil {
		t.Fatal(err)
	}
	if err := files.Close(); err != nil {
		t.Fatal(err)
	}
	if err := reg.WriteHandshakeLog(files.Dir); err != nil {
		t.Fatal(err)
	}
}

// Check runs the workload's own consistency check and returns its problems.
func Check(t testing.TB, pool *pgxpool.Pool, w workloads.Workload, run *workloads.RunInfo) []string {
	t.Helper()
	c, ok := w.(workloads.Checker)
	if !ok {
		t.Fatalf("workload %s has no check", w.Meta().Name)
	}
	problems, err := c.Check(context.Background(), pool, run)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return problems
}

// ExpectClean fails the test when Check finds a problem.
func ExpectClean(t testing.TB, pool *pgxpool.Pool, w workloads.Workload, run *workloads.RunInfo) {
	t.Helper()
	if problems := Check(t, pool, w, run); len(problems) > 0 {
		t.Errorf("check found problems:\n%s", strings.Join(problems, "\n"))
	}
}

// ExpectProblem fails the test unless Check reports a problem containing
// want.
func ExpectProblem(t testing.TB, pool *pgxpool.Pool, w workloads.Workload, run *workloads.RunInfo, want string) {
	t.Helper()
	if problems := Check(t, pool, w, run); !strings.Contains(strings.Join(problems, "\n"), want) {
		t.Errorf("Check said %q, want a problem mentioning %q", problems, want)
	}
}

// logWriter sends each write to the test's log.
type logWriter struct{ t testing.TB }

func (l logWriter) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// AttemptOnce runs one attempt of wk in a transaction of its own, committed
// when the attempt succeeds and rolled back when it fails.
func AttemptOnce(ctx context.Context, pool *pgxpool.Pool, wk workloads.Worker) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := wk.Attempt(ctx, tx); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}
