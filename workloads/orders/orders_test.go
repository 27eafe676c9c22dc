package orders

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	mathrand "math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/workloads"
)

// TestOrdersOnStack loads the workload through HAProxy under client
// certificate auth, runs it through the real driver and checks it.
func TestOrdersOnStack(t *testing.T) {
	st := stacktest.Start(t)
	pool := certPool(t, st)
	t.Run("uniform", func(t *testing.T) {
		w := initWorkload(t, pool, "--customers", "200", "--products", "50")
		sum, run := runLoad(t, pool, w, 1)
		for _, op := range w.Ops() {
			if s := sum.Op(op); s == nil || s.Count == 0 {
				t.Errorf("op %s never succeeded: %+v", op, s)
			}
		}
		expectClean(t, pool, w, run)
	})
	t.Run("same_seed_again", func(t *testing.T) {
		// Seed 1 again on the same data: the ids must still be new, or
		// ops would pass for already applied.
		w := newWorkload(t)
		_, run := runLoad(t, pool, w, 1)
		expectClean(t, pool, w, run)
	})
	t.Run("hot", func(t *testing.T) {
		w := newWorkload(t, "--hot-products", "2", "--mix", "new_order=60,update_price=40")
		sum, run := runLoad(t, pool, w, 2)
		var retries int64
		for _, op := range sum.Ops {
			retries += op.Retries
		}
		if retries == 0 {
			t.Errorf("no retries with 8 workers on 2 hot products: %+v", sum.Ops)
		}
		t.Logf("hot products: %d retries; new_order %+v", retries, *sum.Op("new_order"))
		expectClean(t, pool, w, run)
	})
	t.Run("out_of_stock", func(t *testing.T) {
		w := initWorkload(t, pool, "--customers", "20", "--products", "3", "--initial-stock", "40", "--mix", "new_order=1")
		sum, run := runLoad(t, pool, w, 3)
		if o := sum.Op("new_order"); o.Count == 0 || o.Outcomes["out_of_stock"] == 0 {
			t.Errorf("want orders and then out_of_stock outcomes, got %+v", *o)
		}
		expectClean(t, pool, w, run)
	})
	t.Run("retry_after_commit", func(t *testing.T) { testRetryAfterCommit(t, pool) })
	t.Run("planted", func(t *testing.T) { testPlanted(t, pool) })
}

// testRetryAfterCommit repeats the attempt of a committed new_customer and
// new_order, as the driver does after an ambiguous COMMIT: the repeat must
// report ErrAlreadyApplied and change nothing.
func testRetryAfterCommit(t *testing.T, pool *pgxpool.Pool) {
	ctx := context.Background()
	w := initWorkload(t, pool, "--customers", "20", "--products", "5")
	run := &workloads.RunInfo{Committed: map[string]int64{"new_order": 1}}
	rand.Read(run.RunID[:])
	if err := w.Prepare(ctx, pool, run); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	wk := newWorker(w.(*orders), mathrand.New(mathrand.NewPCG(5, 6)))
	for _, op := range []int{opNewCustomer, opNewOrder} {
		for wk.Next() != op { // draw until the op comes up
		}
		if err := attemptOnce(ctx, pool, wk); err != nil {
			t.Fatalf("%s: first attempt: %v", opNames[op], err)
		}
		if err := attemptOnce(ctx, pool, wk); !errors.Is(err, workloads.ErrAlreadyApplied) {
			t.Fatalf("%s: repeated attempt returned %v, want ErrAlreadyApplied", opNames[op], err)
		}
	}
	expectClean(t, pool, w, run)
}

// attemptOnce runs one attempt of wk's op in its own transaction.
func attemptOnce(ctx context.Context, pool *pgxpool.Pool, wk *worker) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := wk.Attempt(ctx, tx); err != nil {
		tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

// testPlanted breaks one invariant at a time and expects Check to say so.
func testPlanted(t *testing.T, pool *pgxpool.Pool) {
	w := initWorkload(t, pool, "--customers", "20", "--products", "5")
	_, run := runLoad(t, pool, w, 4)
	expectClean(t, pool, w, run)
	run.Committed["new_order"]++
	if problems := check(t, pool, w, run); !strings.Contains(strings.Join(problems, "\n"), "orders of this run") {
		t.Errorf("with one committed order too many, Check said %q", problems)
	}
	run.Committed["new_order"]--
	for _, c := range []struct{ name, sql, want string }{
		{"subtotal", `UPDATE orders SET subtotal = subtotal + 1 WHERE id = (SELECT id FROM orders ORDER BY id LIMIT 1)`, "subtotal differs"},
		{"stock", `UPDATE products SET stock = stock - 1 WHERE id = 0`, "stock taken since init"},
		{"no lines", `DELETE FROM order_products WHERE order_id = (SELECT id FROM orders ORDER BY id DESC LIMIT 1)`, "have no lines"},
		// PostgreSQL's name for the constraint: Check must not rely on it.
		{"orphan", `ALTER TABLE order_products DROP CONSTRAINT order_products_order_id_fkey;
			DELETE FROM orders WHERE id = (SELECT order_id FROM order_products ORDER BY order_id LIMIT 1)`, "point at an order that does not exist"},
	} {
		if _, err := pool.Exec(context.Background(), c.sql); err != nil {
			t.Fatalf("planting %s: %v", c.name, err)
		}
		problems := check(t, pool, w, run)
		if !strings.Contains(strings.Join(problems, "\n"), c.want) {
			t.Errorf("after planting %s, Check said %q, want a problem mentioning %q", c.name, problems, c.want)
		}
	}
}

// certPool connects through HAProxy as bench_cert with its client
// certificate, verifying the server, and checks that it did.
func certPool(t *testing.T, st *stack.State) *pgxpool.Pool {
	t.Helper()
	crt, key := st.ClientCertFiles("bench_cert")
	cfg, err := pgxpool.ParseConfig(stack.ConnString(
		"host", "localhost", "port", strconv.Itoa(st.LBPort), "dbname", st.Database, "user", "bench_cert",
		"sslmode", "verify-full", "sslrootcert", st.CAFile, "sslcert", crt, "sslkey", key, "connect_timeout", "10"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var user string
	var ssl bool
	err = pool.QueryRow(context.Background(), `SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&user, &ssl)
	if err != nil || user != "bench_cert" || !ssl {
		t.Fatalf("want a TLS session as bench_cert, got user %q ssl %v err %v", user, ssl, err)
	}
	return pool
}

func newWorkload(t *testing.T, args ...string) workloads.Workload {
	t.Helper()
	m, err := workloads.Lookup("orders")
	if err != nil {
		t.Fatal(err)
	}
	w := m.New()
	if err := w.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	return w
}

func initWorkload(t *testing.T, pool *pgxpool.Pool, args ...string) workloads.Workload {
	t.Helper()
	w := newWorkload(t, args...)
	if err := w.(workloads.Initer).Init(context.Background(), pool, testLog{t}); err != nil {
		t.Fatalf("init: %v", err)
	}
	return w
}

// runLoad runs w for 3 s with 8 workers and returns the summary and the
// run's identity with its committed ops.
func runLoad(t *testing.T, pool *pgxpool.Pool, w workloads.Workload, seed uint64) (*results.Summary, *workloads.RunInfo) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := &workloads.RunInfo{}
	rand.Read(run.RunID[:])
	if err := w.Prepare(ctx, pool, run); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	reg := results.NewRegistry(w.Ops(), false, time.Now())
	res := (&driver.Run{
		Config: driver.Config{Concurrency: 8, Duration: 3 * time.Second, MaxRetries: 20,
			TolerateErrors: false, DisplayEvery: time.Second, Seed: seed},
		DB: pool, Workload: w, Registry: reg, Out: io.Discard,
	}).Execute(ctx)
	if res.Err != nil || res.StopReason != "duration" {
		t.Fatalf("run stopped by %s: %v", res.StopReason, res.Err)
	}
	sum := reg.Summary(time.Now(), nil)
	run.Committed = map[string]int64{}
	for _, op := range w.Ops() {
		run.Committed[op] = sum.Op(op).Committed
	}
	return sum, run
}

func check(t *testing.T, pool *pgxpool.Pool, w workloads.Workload, run *workloads.RunInfo) []string {
	t.Helper()
	problems, err := w.(workloads.Checker).Check(context.Background(), pool, run)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return problems
}

func expectClean(t *testing.T, pool *pgxpool.Pool, w workloads.Workload, run *workloads.RunInfo) {
	t.Helper()
	if problems := check(t, pool, w, run); len(problems) > 0 {
		t.Errorf("check found problems:\n%s", strings.Join(problems, "\n"))
	}
}

// testLog sends Init's log lines to t.Log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
