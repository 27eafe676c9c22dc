// Package orders is the customers/products/orders workload (the Django
// app): customers(id, name), products(id, name, price, stock), orders and
// the order↔product table order_products. Its ops add customers, page
// through them, place orders that take stock, read orders back and change
// prices; --mix weighs them. Ids that a retry must repeat (new customers,
// orders) are fixed before the first attempt and inserted with
// ON CONFLICT (id) DO NOTHING, so a retry after an ambiguous commit applies
// an op at most once. Prices are INT8 cents.
package orders

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/workloads"
)

func init() {
	workloads.Register(meta)
}

var meta = workloads.Meta{
	Name:        "orders",
	Description: "customers place orders for products, taking stock, in one transaction (Django orders app)",
	New:         func() workloads.Workload { return newOrders() },
}

type orders struct {
	flags        *pflag.FlagSet
	customers    int64
	products     int64
	initialStock int64
	maxLines     int
	maxQuantity  int64
	hotProducts  int64
	mixFlag      string
	mix          *mix
	runID        [16]byte
	style        string // workloads.StyleApp, StylePipelined or StyleSingle
}

func newOrders() *orders {
	o := &orders{flags: pflag.NewFlagSet("orders", pflag.ContinueOnError)}
	f := o.flags
	f.Int64Var(&o.customers, "customers", 1000, "number of customers (init)")
	f.Int64Var(&o.products, "products", 1000, "number of products (init)")
	f.Int64Var(&o.initialStock, "initial-stock", 1000000, "stock of every product at init")
	f.IntVar(&o.maxLines, "max-lines", 5, "most distinct products in one order")
	f.Int64Var(&o.maxQuantity, "max-quantity", 3, "largest quantity of one product in an order")
	f.Int64Var(&o.hotProducts, "hot-products", 0, "0: any product; K>0: new_order and update_price use only the first K products, to produce retries on purpose")
	f.StringVar(&o.mixFlag, "mix", defaultMix, "op weights as name=weight,…")
	return o
}

// Meta returns the workload's registration.
func (o *orders) Meta() workloads.Meta { return meta }

// Flags returns the workload's flags, shared by init and run.
func (o *orders) Flags() *pflag.FlagSet { return o.flags }

// Ops returns every op name in a fixed order, whatever the mix.
func (o *orders) Ops() []string { return append([]string(nil), opNames[:]...) }

// Facts reports the data set's size and the op mix.
func (o *orders) Facts() map[string]string {
	mix := o.mixFlag
	if o.mix != nil {
		mix = o.mix.String()
	}
	return map[string]string{
		"customers":    strconv.FormatInt(o.customers, 10),
		"products":     strconv.FormatInt(o.products, 10),
		"hot_products": strconv.FormatInt(o.hotProducts, 10),
		"mix":          mix,
	}
}

// Upper bounds of --max-lines (each worker holds that many lines) and of
// --max-quantity (so that a subtotal cannot overflow INT8).
const (
	maxMaxLines    = 1000
	maxMaxQuantity = 1000000
)

// validate checks the flags and parses the mix.
func (o *orders) validate() error {
	switch {
	case o.customers < 1:
		return fmt.Errorf("--customers must be at least 1, got %d", o.customers)
	case o.products < 1:
		return fmt.Errorf("--products must be at least 1, got %d", o.products)
	case o.initialStock < 0:
		return fmt.Errorf("--initial-stock must not be negative, got %d", o.initialStock)
	case o.maxLines < 1 || o.maxLines > maxMaxLines:
		return fmt.Errorf("--max-lines must be from 1 to %d, got %d", maxMaxLines, o.maxLines)
	case o.maxQuantity < 1 || o.maxQuantity > maxMaxQuantity:
		return fmt.Errorf("--max-quantity must be from 1 to %d, got %d", maxMaxQuantity, o.maxQuantity)
	case o.hotProducts < 0:
		return fmt.Errorf("--hot-products must not be negative (0 means every product), got %d", o.hotProducts)
	}
	m, err := parseMix(o.mixFlag)
	if err != nil {
		return err
	}
	o.mix = m
	return nil
}

// Validate checks the flags before anything connects (workloads.Validator).
func (o *orders) Validate() error { return o.validate() }

// Prepare checks the flags and reads the data set's size recorded by init.
func (o *orders) Prepare(ctx context.Context, db *pgxpool.Pool, run *workloads.RunInfo) error {
	if err := o.validate(); err != nil {
		return err
	}
	m, err := readMeta(ctx, db)
	if err != nil {
		return err
	}
	o.customers, o.products, o.initialStock = m.customers, m.products, m.initialStock
	o.hotProducts = min(o.hotProducts, o.products)
	if run != nil {
		o.runID = run.RunID
	}
	o.style = workloads.StyleOf(run)
	return nil
}

// productPool is how many products (the first ones) new_order and
// update_price choose from.
func (o *orders) productPool() int64 {
	if o.hotProducts > 0 {
		return o.hotProducts
	}
	return o.products
}

// NewWorker returns an op source with its own RNG, in the style Prepare
// was given.
func (o *orders) NewWorker(rng *rand.Rand) workloads.Worker {
	w := newWorker(o, rng)
	if o.style == workloads.StyleSingle {
		return singleWorker{w}
	}
	return w
}
