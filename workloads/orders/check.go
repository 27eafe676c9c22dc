package orders

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/workloads"
)

// Every statement here is valid on PostgreSQL and on CockroachDB. The joins
// are LEFT JOINs so that the checks hold even without foreign keys.
const (
	// sqlCheckOrders counts orders without lines, orders whose subtotal is
	// not the sum of their lines, and orders of a missing customer.
	sqlCheckOrders = `
SELECT count(*) FILTER (WHERE l.order_id IS NULL),
       count(*) FILTER (WHERE l.order_id IS NOT NULL AND o.subtotal <> l.total),
       count(*) FILTER (WHERE c.id IS NULL)
FROM orders AS o
LEFT JOIN (SELECT order_id, sum(quantity * unit_price) AS total FROM order_products GROUP BY order_id) AS l ON l.order_id = o.id
LEFT JOIN customers AS c ON c.id = o.customer_id`

	// sqlCheckLines counts lines of a missing order and of a missing product.
	sqlCheckLines = `
SELECT count(*) FILTER (WHERE o.id IS NULL), count(*) FILTER (WHERE p.id IS NULL)
FROM order_products AS l
LEFT JOIN orders AS o ON o.id = l.order_id
LEFT JOIN products AS p ON p.id = l.product_id`

	// sqlCheckStock counts the products and those whose stock taken since
	// init ($1 − stock) differs from the quantities their lines ordered.
	sqlCheckStock = `
SELECT count(*), count(*) FILTER (WHERE CAST($1 AS INT8) - p.stock <> COALESCE(l.ordered, 0))
FROM products AS p
LEFT JOIN (SELECT product_id, sum(quantity) AS ordered FROM order_products GROUP BY product_id) AS l ON l.product_id = p.id`

	sqlCountRunOrders = `SELECT count(*) FROM orders WHERE run_id = ANY($1)`
)

// Check verifies the orders' invariants in one read-only snapshot: every
// order has lines and its subtotal is the sum of quantity × unit price of
// its lines; no order or line points at a missing row; every product's
// stock taken since init equals the quantities ordered; and the orders of
// this run equal the new_order ops the run committed.
func (o *orders) Check(ctx context.Context, db *pgxpool.Pool, run *workloads.RunInfo) ([]string, error) {
	m, err := readMeta(ctx, db)
	if err != nil {
		return nil, err
	}
	tx, err := db.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("starting the check's read-only transaction: %w", err)
	}
	defer tx.Rollback(ctx)
	var problems []string
	for _, check := range []func(context.Context, pgx.Tx, ordersMeta, *workloads.RunInfo) ([]string, error){
		checkOrders, checkLines, checkStock, checkRun,
	} {
		p, err := check(ctx, tx, m, run)
		if err != nil {
			return nil, err
		}
		problems = append(problems, p...)
	}
	return problems, nil
}

func checkOrders(ctx context.Context, tx pgx.Tx, _ ordersMeta, _ *workloads.RunInfo) ([]string, error) {
	var noLines, badSubtotal, noCustomer int64
	if err := tx.QueryRow(ctx, sqlCheckOrders).Scan(&noLines, &badSubtotal, &noCustomer); err != nil {
		return nil, fmt.Errorf("checking orders against their lines: %w", err)
	}
	var problems []string
	if noLines > 0 {
		problems = append(problems, fmt.Sprintf("%d orders have no lines in order_products", noLines))
	}
	if badSubtotal > 0 {
		problems = append(problems, fmt.Sprintf("%d orders' subtotal differs from the sum of quantity × unit_price of their lines", badSubtotal))
	}
	if noCustomer > 0 {
		problems = append(problems, fmt.Sprintf("%d orders belong to a customer that does not exist", noCustomer))
	}
	return problems, nil
}

func checkLines(ctx context.Context, tx pgx.Tx, _ ordersMeta, _ *workloads.RunInfo) ([]string, error) {
	var noOrder, noProduct int64
	if err := tx.QueryRow(ctx, sqlCheckLines).Scan(&noOrder, &noProduct); err != nil {
		return nil, fmt.Errorf("checking order lines: %w", err)
	}
	var problems []string
	if noOrder > 0 {
		problems = append(problems, fmt.Sprintf("%d order lines point at an order that does not exist", noOrder))
	}
	if noProduct > 0 {
		problems = append(problems, fmt.Sprintf("%d order lines point at a product that does not exist", noProduct))
	}
	return problems, nil
}

func checkStock(ctx context.Context, tx pgx.Tx, m ordersMeta, _ *workloads.RunInfo) ([]string, error) {
	var products, drifted int64
	if err := tx.QueryRow(ctx, sqlCheckStock, m.initialStock).Scan(&products, &drifted); err != nil {
		return nil, fmt.Errorf("checking stock against ordered quantities: %w", err)
	}
	var problems []string
	if products != m.products {
		problems = append(problems, fmt.Sprintf("products table holds %d products, init loaded %d", products, m.products))
	}
	if drifted > 0 {
		problems = append(problems, fmt.Sprintf("%d products' stock taken since init (%d − stock) differs from the quantities their order lines ordered (stock taken twice or an order lost)", drifted, m.initialStock))
	}
	return problems, nil
}

func checkRun(ctx context.Context, tx pgx.Tx, _ ordersMeta, run *workloads.RunInfo) ([]string, error) {
	if run == nil {
		return nil, nil
	}
	var recorded int64
	if err := tx.QueryRow(ctx, sqlCountRunOrders, run.IDs()).Scan(&recorded); err != nil {
		return nil, fmt.Errorf("counting this run's orders: %w", err)
	}
	committed, unknown := run.Committed["new_order"], run.Ambiguous["new_order"]
	if recorded < committed || recorded > committed+unknown {
		return []string{fmt.Sprintf("orders table holds %d orders of this run, the run committed %d new_order ops (and %d of unknown outcome)", recorded, committed, unknown)}, nil
	}
	return nil, nil
}
