package orders

import (
	"context"
	"crypto/rand"
	"errors"
	mathrand "math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/workloads"
	"github.com/authbench/authbench/workloads/workloadtest"
)

// TestOrdersOnStack loads the workload through HAProxy under client
// certificate auth, runs it through the real driver and checks it.
func TestOrdersOnStack(t *testing.T) {
	st := stacktest.Start(t)
	pool := workloadtest.Pool(t, stacktest.CertConnString(st, "bench_cert"), 8)
	t.Run("uniform", func(t *testing.T) {
		w := workloadtest.Init(t, pool, "orders", "--customers", "200", "--products", "50")
		sum, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 1})
		for _, op := range w.Ops() {
			if s := sum.Op(op); s == nil || s.Count == 0 {
				t.Errorf("op %s never succeeded: %+v", op, s)
			}
		}
		workloadtest.ExpectClean(t, pool, w, run)
	})
	t.Run("same_seed_again", func(t *testing.T) {
		// Seed 1 again on the same data: the ids must still be new, or
		// ops would pass for already applied.
		w := workloadtest.New(t, "orders")
		_, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 1})
		workloadtest.ExpectClean(t, pool, w, run)
	})
	t.Run("hot", func(t *testing.T) {
		w := workloadtest.New(t, "orders", "--hot-products", "2", "--mix", "new_order=60,update_price=40")
		sum, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 2})
		var retries int64
		for _, op := range sum.Ops {
			retries += op.Retries
		}
		if retries == 0 {
			t.Errorf("no retries with 8 workers on 2 hot products: %+v", sum.Ops)
		}
		t.Logf("hot products: %d retries; new_order %+v", retries, *sum.Op("new_order"))
		workloadtest.ExpectClean(t, pool, w, run)
	})
	t.Run("out_of_stock", func(t *testing.T) {
		w := workloadtest.Init(t, pool, "orders", "--customers", "20", "--products", "3", "--initial-stock", "40", "--mix", "new_order=1")
		sum, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 3})
		if o := sum.Op("new_order"); o.Count == 0 || o.Outcomes["out_of_stock"] == 0 {
			t.Errorf("want orders and then out_of_stock outcomes, got %+v", *o)
		}
		workloadtest.ExpectClean(t, pool, w, run)
	})
	t.Run("retry_after_commit", func(t *testing.T) { testRetryAfterCommit(t, pool, workloads.StylePipelined) })
	t.Run("styles", func(t *testing.T) { testStyles(t, pool) })
	t.Run("planted", func(t *testing.T) { testPlanted(t, pool) })
}

// testRetryAfterCommit repeats the attempt of a committed new_customer and
// new_order, as the driver does after an ambiguous COMMIT: the repeat must
// report ErrAlreadyApplied and change nothing.
func testRetryAfterCommit(t *testing.T, pool *pgxpool.Pool, style string) {
	ctx := context.Background()
	w := workloadtest.Init(t, pool, "orders", "--customers", "20", "--products", "5")
	run := &workloads.RunInfo{Committed: map[string]int64{"new_order": 1}, TxnStyle: style}
	rand.Read(run.RunID[:])
	if err := w.Prepare(ctx, pool, run); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	wk := newWorker(w.(*orders), mathrand.New(mathrand.NewPCG(5, 6)))
	for _, op := range []int{opNewCustomer, opNewOrder} {
		for wk.Next() != op { // draw until the op comes up
		}
		if err := workloadtest.AttemptOnce(ctx, pool, wk); err != nil {
			t.Fatalf("%s: first attempt: %v", opNames[op], err)
		}
		if err := workloadtest.AttemptOnce(ctx, pool, wk); !errors.Is(err, workloads.ErrAlreadyApplied) {
			t.Fatalf("%s: repeated attempt returned %v, want ErrAlreadyApplied", opNames[op], err)
		}
	}
	workloadtest.ExpectClean(t, pool, w, run)
}

// testStyles runs the app and single styles (pipelined is the default of
// the tests above): every op succeeds on uniform data, hot products keep
// the invariants under retries, an order finds no stock as in the
// pipelined style, and a repeated attempt of a committed op is seen as
// applied.
func testStyles(t *testing.T, pool *pgxpool.Pool) {
	for _, style := range []string{workloads.StyleApp, workloads.StyleSingle} {
		t.Run(style, func(t *testing.T) {
			w := workloadtest.Init(t, pool, "orders", "--customers", "200", "--products", "50")
			sum, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 21, TxnStyle: style})
			for _, op := range w.Ops() {
				if s := sum.Op(op); s == nil || s.Count == 0 || s.Errors != 0 {
					t.Errorf("%s: op %s: %+v, want successes and no errors", style, op, s)
				}
			}
			workloadtest.ExpectClean(t, pool, w, run)
			w = workloadtest.New(t, "orders", "--hot-products", "2", "--mix", "new_order=60,update_price=20,get_order=20")
			sum, run = workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 22, TxnStyle: style, MaxRetries: 50})
			if o := sum.Op("new_order"); o.Count == 0 || o.Errors != 0 || o.Retries == 0 {
				t.Errorf("%s: hot new_order %+v, want successes, retries and no errors", style, *o)
			}
			workloadtest.ExpectClean(t, pool, w, run)
			w = workloadtest.Init(t, pool, "orders", "--customers", "20", "--products", "3", "--initial-stock", "40", "--mix", "new_order=1")
			sum, run = workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 23, TxnStyle: style})
			if o := sum.Op("new_order"); o.Count == 0 || o.Outcomes["out_of_stock"] == 0 {
				t.Errorf("%s: want orders and then out_of_stock outcomes, got %+v", style, *o)
			}
			workloadtest.ExpectClean(t, pool, w, run)
			testRetryAfterCommit(t, pool, style)
		})
	}
}

// testPlanted breaks one invariant at a time and expects Check to say so.
func testPlanted(t *testing.T, pool *pgxpool.Pool) {
	w := workloadtest.Init(t, pool, "orders", "--customers", "20", "--products", "5")
	_, run := workloadtest.Run(t, pool, w, workloadtest.Load{Seed: 4})
	workloadtest.ExpectClean(t, pool, w, run)
	run.Committed["new_order"]++
	workloadtest.ExpectProblem(t, pool, w, run, "orders of this run") // one committed order too many
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
		workloadtest.ExpectProblem(t, pool, w, run, c.want)
	}
}
