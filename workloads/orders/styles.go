package orders

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/workloads"
)

// The app style's statements, one per round trip, as a Django ORM emits
// them (Product.objects.get, Order.objects.create, a filtered update of
// the stock with an F expression, the order's lines with select_related).
// Every statement here is valid on PostgreSQL and on CockroachDB.
const (
	sqlAppProduct    = `SELECT products.id, products.name, products.price, products.stock FROM products WHERE products.id = $1 LIMIT 21`
	sqlAppTakeStock  = `UPDATE products SET stock = (products.stock - $1) WHERE (products.id = $2 AND products.stock >= $1)`
	sqlAppOrderHead  = `SELECT orders.id, orders.customer_id, orders.subtotal, orders.created_at FROM orders WHERE orders.id >= $1 ORDER BY orders.id ASC LIMIT 1`
	sqlAppOrderLines = `SELECT order_products.product_id, order_products.quantity, order_products.unit_price, products.name
FROM order_products INNER JOIN products ON (order_products.product_id = products.id) WHERE order_products.order_id = $1`
)

// sqlNewOrderOnce is the single style's new_order: the lines' prices and
// stock are read, the order is recorded only when every product exists
// and has the stock (nothing when its id is already there), and the stock
// is taken and the lines recorded for the order it recorded. No table is
// modified twice (CockroachDB forbids it). It returns whether the order
// was already there, the products found, those with the stock, and the
// orders, stock updates and lines it wrote.
const sqlNewOrderOnce = `WITH line AS (
	SELECT unnest(CAST($4 AS INT8[])) AS product_id, unnest(CAST($5 AS INT8[])) AS quantity),
priced AS (
	SELECT line.product_id, line.quantity, products.price, products.stock >= line.quantity AS ok
	FROM line JOIN products ON products.id = line.product_id),
placed AS (
	INSERT INTO orders (id, run_id, customer_id, subtotal)
	SELECT CAST($1 AS UUID), CAST($2 AS UUID), CAST($3 AS INT8), CAST(sum(priced.quantity * priced.price) AS INT8) FROM priced
	HAVING count(*) = cardinality(CAST($4 AS INT8[])) AND bool_and(priced.ok)
	ON CONFLICT (id) DO NOTHING
	RETURNING id),
taken AS (
	UPDATE products SET stock = products.stock - priced.quantity
	FROM priced, placed WHERE products.id = priced.product_id
	RETURNING products.id),
lined AS (
	INSERT INTO order_products (order_id, product_id, quantity, unit_price)
	SELECT placed.id, priced.product_id, priced.quantity, priced.price FROM placed, priced
	RETURNING order_id)
SELECT EXISTS (SELECT id FROM orders WHERE id = CAST($1 AS UUID)), (SELECT count(*) FROM priced), (SELECT count(*) FROM priced WHERE ok),
	(SELECT count(*) FROM placed), (SELECT count(*) FROM taken), (SELECT count(*) FROM lined)`

// attemptStyle runs new_order and get_order in the worker's style; the
// other ops are one statement in every style.
func (w *worker) attemptStyle(ctx context.Context, q workloads.Querier, tx pgx.Tx) error {
	switch {
	case w.op == opNewOrder && w.o.style == workloads.StyleApp:
		return w.newOrderApp(ctx, q)
	case w.op == opNewOrder && w.o.style == workloads.StyleSingle:
		return w.newOrderOnce(ctx, q)
	case w.op == opNewOrder:
		return w.newOrder(ctx, tx)
	case w.op == opGetOrder && w.o.style == workloads.StyleApp:
		return w.getOrderApp(ctx, q)
	}
	return w.oneStatement(ctx, q)
}

// newOrderApp places the order one statement per round trip: each
// product's row, the order, then each line's stock and the line.
func (w *worker) newOrderApp(ctx context.Context, q workloads.Querier) error {
	var subtotal int64
	for i := range w.lines {
		rows, err := q.Query(ctx, sqlAppProduct, w.product[i])
		if err != nil {
			return err
		}
		w.productDest[2] = &w.price[i]
		if found, err := scanOne(rows, w.productDest); err != nil {
			return err
		} else if !found {
			return errMissingProduct(w.product[i])
		}
		subtotal += w.quantity[i] * w.price[i]
	}
	ct, err := q.Exec(ctx, sqlInsertOrder, w.orderID, w.o.runID, w.customer, subtotal)
	if err != nil {
		return err
	}
	if ct.RowsAffected() == 0 {
		return workloads.ErrAlreadyApplied
	}
	for i := range w.lines {
		ct, err := q.Exec(ctx, sqlAppTakeStock, w.quantity[i], w.product[i])
		if err != nil {
			return err
		}
		if ct.RowsAffected() == 0 {
			return errOutOfStock
		}
		if _, err := q.Exec(ctx, sqlInsertLine, w.orderID, w.product[i], w.quantity[i], w.price[i]); err != nil {
			return err
		}
	}
	return nil
}

// scanOne scans the first row of rows, if any, into dest and closes rows.
func scanOne(rows pgx.Rows, dest []any) (bool, error) {
	defer rows.Close()
	found := rows.Next()
	if found {
		if err := rows.Scan(dest...); err != nil {
			return false, err
		}
	}
	return found, rows.Err()
}

// getOrderApp reads the order, then its lines with their products.
func (w *worker) getOrderApp(ctx context.Context, q workloads.Querier) error {
	r := &w.row
	err := q.QueryRow(ctx, sqlAppOrderHead, w.key).Scan(&r.orderID, &r.customer, &r.subtotal, &r.created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // past the last order
	} else if err != nil {
		return err
	}
	rows, err := q.Query(ctx, sqlAppOrderLines, r.orderID)
	if err != nil {
		return err
	}
	return drain(rows, w.lineDest)
}

// newOrderOnce places the order in one statement.
func (w *worker) newOrderOnce(ctx context.Context, q workloads.Querier) error {
	var existed bool
	var found, stocked, placed, taken, lined int64
	err := q.QueryRow(ctx, sqlNewOrderOnce, w.orderID, w.o.runID, w.customer, w.product[:w.lines], w.quantity[:w.lines]).
		Scan(&existed, &found, &stocked, &placed, &taken, &lined)
	switch {
	case err != nil:
		return err
	case existed:
		return workloads.ErrAlreadyApplied
	case found < int64(w.lines):
		return errMissingProduct(w.product[0])
	case stocked < int64(w.lines):
		return errOutOfStock
	case placed != 1 || taken != int64(w.lines) || lined != int64(w.lines):
		return errPartialOrder
	}
	return nil
}

// errPartialOrder would mean the single statement wrote part of an order:
// a bug, never a retry.
var errPartialOrder = errors.New("new_order's statement wrote part of an order")

// singleWorker is a worker whose every op is one statement
// (workloads.StyleSingle), which the driver may send on its own.
type singleWorker struct{ *worker }

// AttemptSingle runs the op's one statement on q.
func (w singleWorker) AttemptSingle(ctx context.Context, q workloads.Querier) error {
	return w.attemptStyle(ctx, q, nil)
}
