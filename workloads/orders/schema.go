package orders

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/fix"
	"github.com/authbench/authbench/workloads"
)

// schema drops the tables children first and creates them again. Every
// statement is valid on PostgreSQL and on CockroachDB.
var schema = []string{
	`DROP TABLE IF EXISTS order_products`,
	`DROP TABLE IF EXISTS orders`,
	`DROP TABLE IF EXISTS products`,
	`DROP TABLE IF EXISTS customers`,
	`CREATE TABLE IF NOT EXISTS authbench_meta (workload TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (workload, key))`,
	`DELETE FROM authbench_meta WHERE workload = 'orders'`,
	`CREATE TABLE customers (id INT8 PRIMARY KEY, name TEXT NOT NULL)`,
	`CREATE TABLE products (
		id INT8 PRIMARY KEY,
		name TEXT NOT NULL,
		price INT8 NOT NULL CHECK (price >= 0),
		stock INT8 NOT NULL CHECK (stock >= 0)
	)`,
	`CREATE TABLE orders (
		id UUID PRIMARY KEY,
		run_id UUID NOT NULL,
		customer_id INT8 NOT NULL REFERENCES customers (id),
		subtotal INT8 NOT NULL,
		created_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`,
	`CREATE TABLE order_products (
		order_id UUID NOT NULL REFERENCES orders (id),
		product_id INT8 NOT NULL REFERENCES products (id),
		quantity INT8 NOT NULL CHECK (quantity > 0),
		unit_price INT8 NOT NULL,
		PRIMARY KEY (order_id, product_id)
	)`,
}

// Init drops and recreates the schema, loads customers and products with
// COPY and records the parameters in authbench_meta.
func (o *orders) Init(ctx context.Context, db *pgxpool.Pool, log io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	for _, stmt := range schema {
		if _, err := db.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("creating the orders schema: %w", err)
		}
	}
	if err := o.load(ctx, db); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `INSERT INTO authbench_meta (workload, key, value) VALUES
		('orders', 'customers', $1), ('orders', 'products', $2), ('orders', 'initial_stock', $3)`,
		strconv.FormatInt(o.customers, 10), strconv.FormatInt(o.products, 10), strconv.FormatInt(o.initialStock, 10))
	if err != nil {
		return fmt.Errorf("recording the orders parameters: %w", err)
	}
	fmt.Fprintf(log, "orders: loaded %d customers and %d products with stock %d each\n", o.customers, o.products, o.initialStock)
	return nil
}

// Tables lists the tables init creates.
func (o *orders) Tables() []string {
	return []string{"authbench_meta", "customers", "products", "orders", "order_products"}
}

// load copies the customers (ids 0..N-1) and products (ids 0..M-1).
func (o *orders) load(ctx context.Context, db *pgxpool.Pool) error {
	_, err := workloads.CopyRows(ctx, db, "customers", []string{"id", "name"}, int(o.customers), func(i int) []any {
		return []any{int64(i), "customer " + strconv.Itoa(i)}
	})
	if err != nil {
		return fmt.Errorf("loading customers: %w", err)
	}
	_, err = workloads.CopyRows(ctx, db, "products", []string{"id", "name", "price", "stock"}, int(o.products), func(i int) []any {
		return []any{int64(i), "product " + strconv.Itoa(i), initialPrice(i), o.initialStock}
	})
	if err != nil {
		return fmt.Errorf("loading products: %w", err)
	}
	return nil
}

// initialPrice spreads init prices over 1.00..99.99 (cents), deterministically.
func initialPrice(i int) int64 { return 100 + int64(i)*7919%9900 }

type ordersMeta struct{ customers, products, initialStock int64 }

// readMeta reads what init recorded; a missing schema gets the fix.
func readMeta(ctx context.Context, db *pgxpool.Pool) (ordersMeta, error) {
	kv, err := workloads.ReadMeta(ctx, db, "orders")
	if err != nil {
		return ordersMeta{}, err
	}
	m := ordersMeta{customers: kv["customers"], products: kv["products"], initialStock: kv["initial_stock"]}
	if m.customers < 1 || m.products < 1 {
		return m, workloads.Reload("orders", fix.Textf("the orders workload in this database has %d customers and %d products", m.customers, m.products))
	}
	return m, nil
}
