package bank

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	mathrand "math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/faults"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/workloads"
	"github.com/authbench/authbench/workloads/workloadtest"
)

// TestBankOnStack runs the workload through the real driver over HAProxy
// with client-certificate auth and checks its invariant after each load:
// the total balance is unchanged and every committed transfer is recorded
// once.
func TestBankOnStack(t *testing.T) {
	st := stacktest.Start(t, stacktest.WithStatementStats)
	pool := workloadtest.Pool(t, stacktest.CertConnString(st, "bench_cert"), 8)
	t.Run("uniform", func(t *testing.T) {
		w := workloadtest.Init(t, pool, "bank", "--accounts", "200", "--initial-balance", "1000")
		sum, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 1})
		if o := sum.Op("transfer"); o.Count == 0 || o.Errors != 0 {
			t.Errorf("transfers %+v, want successes and no errors", *o)
		}
		expectLedger(t, pool, run, 200*1000)
		workloadtest.ExpectClean(t, pool, w, run)
	})
	t.Run("hot", func(t *testing.T) {
		// The same data, every transfer between two accounts: 8 workers
		// conflict, and the driver retries the serialization failures.
		w := workloadtest.New(t, "bank", "--contention", "hot", "--hot-accounts", "2")
		sum, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 2, MaxRetries: 50})
		if o := sum.Op("transfer"); o.Retries == 0 || o.Count == 0 {
			t.Errorf("hot transfers %+v, want successes and retries with 8 workers on 2 accounts", *o)
		}
		expectLedger(t, pool, run, 200*1000)
		workloadtest.ExpectClean(t, pool, w, run)
	})
	t.Run("insufficient_funds", func(t *testing.T) {
		w := workloadtest.Init(t, pool, "bank", "--accounts", "10", "--initial-balance", "5", "--max-amount", "100")
		sum, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 3, Concurrency: 2})
		if o := sum.Op("transfer"); o.Outcomes["insufficient_funds"] == 0 {
			t.Errorf("transfers %+v, want insufficient_funds outcomes with balances of 5 and amounts up to 100", *o)
		}
		expectLedger(t, pool, run, 10*5)
		workloadtest.ExpectClean(t, pool, w, run)
	})
	t.Run("styles", func(t *testing.T) { testStyles(t, st, pool) })
	t.Run("savepoint_restart", func(t *testing.T) { testSavepointRestart(t, st) })
	t.Run("retry_after_commit", func(t *testing.T) { testRetryAfterCommit(t, pool) })
	t.Run("planted", func(t *testing.T) { testPlanted(t, pool) })
	t.Run("open_loop_merge", func(t *testing.T) { testOpenLoopMerge(t, pool) })
}

// testStyles runs every transaction style under hot contention (8 workers
// on 2 accounts, serialization failures retried by the full protocol) and
// the app style under the savepoint protocol, and checks the invariants
// after each. The server's statement statistics show the app style's
// read-then-write sequence, and the savepoint statements only under the
// savepoint protocol.
func testStyles(t *testing.T, st *stack.State, pool *pgxpool.Pool) {
	stats := stacktest.StatementStats(t, st)
	for _, c := range []struct {
		style, protocol string
		hot             bool
	}{
		{workloads.StyleApp, driver.ProtocolFull, true},
		{workloads.StylePipelined, driver.ProtocolFull, true},
		{workloads.StyleSingle, driver.ProtocolFull, true},
		{workloads.StyleApp, driver.ProtocolSavepoint, false},
	} {
		t.Run(c.style+"_"+c.protocol, func(t *testing.T) {
			args := []string{"--accounts", "200"}
			if c.hot {
				args = append(args, "--contention", "hot", "--hot-accounts", "2")
			}
			w := workloadtest.Init(t, pool, "bank", args...)
			stats.Reset(t)
			sum, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 7, MaxRetries: 50, TxnStyle: c.style, Protocol: c.protocol})
			o := sum.Op("transfer")
			if o.Count == 0 || o.Errors != 0 || c.hot && o.Retries == 0 {
				t.Errorf("transfers %+v, want successes, no errors and (hot) retries", *o)
			}
			expectLedger(t, pool, run, 200*1000)
			workloadtest.ExpectClean(t, pool, w, run)
			calls := stats.Calls(t)
			expectStyleStatements(t, c.style, c.protocol, calls, o.Committed)
		})
	}
}

// testSavepointRestart runs app-style transfers under the savepoint
// protocol through a proxy that answers the first write of a computed
// balance with 40001, as CockroachDB asks a transaction to restart: the
// driver rolls back to the savepoint and retries inside the transaction
// (one retry, counted; no ROLLBACK of the whole), and the ledger holds
// every transfer once.
func testSavepointRestart(t *testing.T, st *stack.State) {
	proxy, err := faults.StackStatementFailer(st, "bench_cert")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	direct := workloadtest.Pool(t, stacktest.CertConnString(st, "bench_cert"), 1)
	w := workloadtest.Init(t, direct, "bank", "--accounts", "100")
	stats := stacktest.StatementStats(t, st)
	stats.Reset(t)
	proxy.FailStatement(sqlSetBalance, 1)
	pool := workloadtest.Pool(t, stacktest.CertConnString(st, "bench_cert", "host", "127.0.0.1", "port", strconv.Itoa(proxy.Port())), 1)
	sum, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 8, Concurrency: 1, Duration: time.Second,
		TxnStyle: workloads.StyleApp, Protocol: driver.ProtocolSavepoint})
	if f := proxy.Failed(); len(f) != 1 || f[0] != sqlSetBalance {
		t.Fatalf("the proxy failed %q, want the balance write once", f)
	}
	if errs := proxy.Errors(); len(errs) > 0 {
		t.Errorf("proxy errors: %v", errs)
	}
	o := sum.Op("transfer")
	if o.Retries != 1 || o.RetriedTxns != 1 || o.Errors != 0 || o.Committed == 0 {
		t.Errorf("transfers %+v: want one transaction retried once and no errors", *o)
	}
	calls := stats.Calls(t)
	if n := calls["ROLLBACK TO SAVEPOINT cockroach_restart"]; n != 1 {
		t.Errorf("%d ROLLBACK TO SAVEPOINT, want 1", n)
	}
	if n := calls["rollback"] + calls["ROLLBACK"]; n != 0 {
		t.Errorf("%d ROLLBACKs of a whole transaction, want none: the retry stays inside it", n)
	}
	if commits, want := calls["commit"]+calls["COMMIT"], o.Committed; commits != want {
		t.Errorf("%d COMMITs for %d transfers: the restarted one must commit once", commits, want)
	}
	expectLedger(t, direct, run, 100*1000)
	workloadtest.ExpectClean(t, direct, w, run)
}

// expectStyleStatements checks what the server ran: the app style reads
// the source's balance and writes the computed one, once per attempt
// (at least once per committed transfer); the other styles never read
// first; the savepoint statements appear only under their protocol.
func expectStyleStatements(t *testing.T, style, protocol string, calls map[string]int64, committed int64) {
	t.Helper()
	read, set := calls[sqlReadBalance], calls[sqlSetBalance]
	switch style {
	case workloads.StyleApp:
		if read < committed || set < committed || calls[sqlAddBalance] < committed {
			t.Errorf("app style: %d reads, %d balance writes, %d credits for %d transfers; want each at least once per transfer", read, set, calls[sqlAddBalance], committed)
		}
	case workloads.StylePipelined:
		if read != 0 || calls[sqlDebit] < committed {
			t.Errorf("pipelined style: %d reads, %d conditional debits for %d transfers", read, calls[sqlDebit], committed)
		}
	case workloads.StyleSingle:
		if read != 0 || calls[sqlTransferOnce] < committed || calls[sqlDebit] != 0 {
			t.Errorf("single style: %d reads, %d single statements, %d debits for %d transfers", read, calls[sqlTransferOnce], calls[sqlDebit], committed)
		}
	}
	sp := calls["SAVEPOINT cockroach_restart"]
	rel := calls["RELEASE SAVEPOINT cockroach_restart"]
	if protocol == driver.ProtocolSavepoint && (sp < committed || rel < committed) {
		t.Errorf("savepoint protocol: %d SAVEPOINT and %d RELEASE for %d transfers", sp, rel, committed)
	}
	if protocol == driver.ProtocolFull && sp+rel != 0 {
		t.Errorf("full protocol: %d SAVEPOINT and %d RELEASE statements, want none", sp, rel)
	}
}

// expectLedger checks the invariant in SQL of its own, apart from Check:
// the money adds up to total, and the run's transfers table rows are
// distinct and as many as its committed transfers (plus at most those of
// unknown outcome).
func expectLedger(t *testing.T, pool *pgxpool.Pool, run *workloads.RunInfo, total int64) {
	t.Helper()
	ctx := context.Background()
	var sum int64
	if err := pool.QueryRow(ctx, `SELECT sum(balance) FROM accounts`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != total {
		t.Errorf("total balance %d, want %d", sum, total)
	}
	var rows, distinct int64
	err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT id) FROM transfers WHERE run_id = ANY($1)`, run.IDs()).Scan(&rows, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	committed, unknown := run.Committed["transfer"], run.Ambiguous["transfer"]
	if rows != distinct || rows < committed || rows > committed+unknown {
		t.Errorf("%d transfer rows (%d distinct) for %d committed and %d of unknown outcome", rows, distinct, committed, unknown)
	}
}

// testRetryAfterCommit repeats the attempt of a committed transfer, as the
// driver does after an ambiguous COMMIT: the repeat must report
// ErrAlreadyApplied and move no money.
func testRetryAfterCommit(t *testing.T, pool *pgxpool.Pool) {
	ctx := context.Background()
	w := workloadtest.Init(t, pool, "bank", "--accounts", "20")
	run := &workloads.RunInfo{Committed: map[string]int64{"transfer": 1}}
	_, _ = rand.Read(run.RunID[:])
	if err := w.Prepare(ctx, pool, run); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	wk := w.NewWorker(mathrand.New(mathrand.NewPCG(5, 6)))
	wk.Next()
	if err := workloadtest.AttemptOnce(ctx, pool, wk); err != nil {
		t.Fatalf("first attempt: %v", err)
	}
	if err := workloadtest.AttemptOnce(ctx, pool, wk); !errors.Is(err, workloads.ErrAlreadyApplied) {
		t.Fatalf("repeated attempt returned %v, want ErrAlreadyApplied", err)
	}
	expectLedger(t, pool, run, 20*1000)
	workloadtest.ExpectClean(t, pool, w, run)
}

// testPlanted breaks one invariant at a time and expects Check to say so.
func testPlanted(t *testing.T, pool *pgxpool.Pool) {
	w := workloadtest.Init(t, pool, "bank", "--accounts", "50")
	_, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 4, Concurrency: 4})
	workloadtest.ExpectClean(t, pool, w, run)
	run.Committed["transfer"]++
	workloadtest.ExpectProblem(t, pool, w, run, "transfers table holds")
	run.Committed["transfer"]--
	for _, c := range []struct{ name, sql, want string }{
		{"lost transfer row", `DELETE FROM transfers WHERE id = (SELECT id FROM transfers ORDER BY id LIMIT 1)`, "differ from initial balance + recorded transfers"},
		{"money made", `UPDATE accounts SET balance = balance + 1 WHERE id = 0`, "total balance is"},
		{"overdrawn", `UPDATE accounts SET balance = -1 WHERE id = 1`, "negative balance"},
	} {
		if _, err := pool.Exec(context.Background(), c.sql); err != nil {
			t.Fatalf("planting %s: %v", c.name, err)
		}
		workloadtest.ExpectProblem(t, pool, w, run, c.want)
	}
}

// testOpenLoopMerge runs bank twice in an open loop, writing run
// directories as `authbench run --max-rate` does, merges them, and checks
// that the merged summary has the service times and that the merged run's
// transfers are all in the database.
func testOpenLoopMerge(t *testing.T, pool *pgxpool.Pool) {
	w := workloadtest.Init(t, pool, "bank", "--accounts", "100")
	root := t.TempDir()
	var sums []*results.Summary
	for i, name := range []string{"a", "b"} {
		s, _ := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: uint64(10 + i), Concurrency: 4, MaxRate: 200, Dir: filepath.Join(root, name)})
		if s.Op("transfer").Service == nil {
			t.Fatalf("open-loop run %s has no service time in its summary", name)
		}
		sums = append(sums, s)
	}
	m, err := results.MergeDirs([]string{filepath.Join(root, "a"), filepath.Join(root, "b")})
	if err != nil {
		t.Fatalf("merge: %v", err)
	}
	got, a, b := m.Summary.Op("transfer"), sums[0].Op("transfer"), sums[1].Op("transfer")
	if got.Service == nil || got.Service.Count != a.Service.Count+b.Service.Count || got.Service.Count != got.Latency.Count {
		t.Fatalf("merged service time %+v, want the %d + %d of the runs", got.Service, a.Service.Count, b.Service.Count)
	}
	if got.Service.Max > got.Latency.Max {
		t.Errorf("merged service max %v above latency max %v: service time counts from the actual start, latency from the intended one", got.Service.Max, got.Latency.Max)
	}
	run := &workloads.RunInfo{Committed: map[string]int64{"transfer": got.Committed}, Ambiguous: map[string]int64{"transfer": got.Ambiguous}}
	for _, id := range m.Summary.RunIDs {
		var b [16]byte
		if n, err := hex.Decode(b[:], []byte(id)); err != nil || n != 16 {
			t.Fatalf("run id %q: %v", id, err)
		}
		run.MergedIDs = append(run.MergedIDs, b)
	}
	expectLedger(t, pool, run, 100*1000)
	workloadtest.ExpectClean(t, pool, w, run)
}
