package orders

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/fix"
	"github.com/authbench/authbench/workloads"
)

// Every statement here is valid on PostgreSQL and on CockroachDB.
const (
	sqlNewCustomer   = `INSERT INTO customers (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`
	sqlListCustomers = `SELECT id, name FROM customers WHERE id >= $1 ORDER BY id LIMIT 20`
	sqlPrice         = `SELECT price FROM products WHERE id = $1`
	sqlInsertOrder   = `INSERT INTO orders (id, run_id, customer_id, subtotal) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`
	sqlTakeStock     = `UPDATE products SET stock = stock - $2 WHERE id = $1 AND stock >= $2`
	sqlInsertLine    = `INSERT INTO order_products (order_id, product_id, quantity, unit_price) VALUES ($1, $2, $3, $4)`
	sqlUpdatePrice   = `UPDATE products SET price = $2 WHERE id = $1`
	sqlGetOrder      = `SELECT o.id, o.customer_id, o.subtotal, o.created_at, l.product_id, p.name, l.quantity, l.unit_price
FROM (SELECT id, customer_id, subtotal, created_at FROM orders WHERE id >= $1 ORDER BY id LIMIT 1) AS o
JOIN order_products AS l ON l.order_id = o.id
JOIN products AS p ON p.id = l.product_id`
)

var errOutOfStock = &workloads.Outcome{Name: "out_of_stock"}

// newCustomer inserts the customer; if its id is already there, an earlier
// attempt committed although its COMMIT reported an error.
func (w *worker) newCustomer(ctx context.Context, tx workloads.Querier) error {
	ct, err := tx.Exec(ctx, sqlNewCustomer, w.customerID, w.name)
	if err != nil {
		return err
	}
	if ct.RowsAffected() == 0 {
		return workloads.ErrAlreadyApplied
	}
	return nil
}

// listCustomers reads one page of customers from a random id on.
func (w *worker) listCustomers(ctx context.Context, tx workloads.Querier) error {
	rows, err := tx.Query(ctx, sqlListCustomers, w.fromID)
	if err != nil {
		return err
	}
	return drain(rows, w.listDest)
}

// getOrder reads the first order at or after a random id with its lines
// and their products; finding none (past the last id) is fine.
func (w *worker) getOrder(ctx context.Context, tx workloads.Querier) error {
	rows, err := tx.Query(ctx, sqlGetOrder, w.key)
	if err != nil {
		return err
	}
	return drain(rows, w.orderDest)
}

// drain scans every row into dest and closes rows.
func drain(rows pgx.Rows, dest []any) error {
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
	}
	return rows.Err()
}

// updatePrice sets one product's price.
func (w *worker) updatePrice(ctx context.Context, tx workloads.Querier) error {
	ct, err := tx.Exec(ctx, sqlUpdatePrice, w.priceProduct, w.newPrice)
	if err != nil {
		return err
	}
	if ct.RowsAffected() == 0 {
		return errMissingProduct(w.priceProduct)
	}
	return nil
}

// newOrder reads the prices (one round trip), then records the order,
// takes the stock and records the lines at those prices (a second one).
func (w *worker) newOrder(ctx context.Context, tx pgx.Tx) error {
	if err := w.readPrices(ctx, tx); err != nil {
		return err
	}
	var subtotal int64
	for i := range w.lines {
		subtotal += w.quantity[i] * w.price[i]
	}
	w.batch.QueuedQueries = w.batch.QueuedQueries[:0]
	w.batch.Queue(sqlInsertOrder, w.orderID, w.o.runID, w.customer, subtotal)
	for i := range w.lines {
		w.batch.Queue(sqlTakeStock, w.product[i], w.quantity[i])
	}
	for i := range w.lines {
		w.batch.Queue(sqlInsertLine, w.orderID, w.product[i], w.quantity[i], w.price[i])
	}
	br := tx.SendBatch(ctx, &w.batch)
	err := w.orderResults(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// orderResults reads the results of newOrder's batch in order. The order
// comes first: if it is already recorded, nothing else matters (the lines
// then fail on their primary key, which the rollback discards).
func (w *worker) orderResults(br pgx.BatchResults) error {
	ct, err := br.Exec()
	if err != nil {
		return err
	}
	if ct.RowsAffected() == 0 {
		return workloads.ErrAlreadyApplied
	}
	for range w.lines {
		ct, err := br.Exec()
		if err != nil {
			return err
		}
		if ct.RowsAffected() == 0 {
			return errOutOfStock
		}
	}
	for range w.lines {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	return nil
}

// readPrices reads the unit price of every line, pipelined.
func (w *worker) readPrices(ctx context.Context, tx pgx.Tx) error {
	w.batch.QueuedQueries = w.batch.QueuedQueries[:0]
	for i := range w.lines {
		w.batch.Queue(sqlPrice, w.product[i])
	}
	br := tx.SendBatch(ctx, &w.batch)
	for i := range w.lines {
		if err := br.QueryRow().Scan(w.priceDest[i]...); err != nil {
			br.Close()
			if errors.Is(err, pgx.ErrNoRows) {
				return errMissingProduct(w.product[i])
			}
			return err
		}
	}
	return br.Close()
}

// errMissingProduct reports a product id that init should have loaded.
func errMissingProduct(id int64) error {
	return workloads.Reload("orders", fix.Textf("product %d is missing although init loaded it: the data set changed under the run", id))
}
