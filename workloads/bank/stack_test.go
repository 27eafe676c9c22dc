package bank

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	mathrand "math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/workloads"
	"github.com/authbench/authbench/workloads/workloadtest"
)

// TestBankOnStack runs the workload through the real driver over HAProxy
// with client-certificate auth and checks its invariant after each load:
// the total balance is unchanged and every committed transfer is recorded
// once.
func TestBankOnStack(t *testing.T) {
	st := stacktest.Start(t)
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
	t.Run("retry_after_commit", func(t *testing.T) { testRetryAfterCommit(t, pool) })
	t.Run("planted", func(t *testing.T) { testPlanted(t, pool) })
	t.Run("open_loop_merge", func(t *testing.T) { testOpenLoopMerge(t, pool) })
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
