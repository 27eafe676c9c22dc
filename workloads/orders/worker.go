package orders

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/authbench/authbench/workloads"
)

// worker is one driver worker's op source. Next fixes the op and its
// arguments in the fields below; Attempt only reads them, so every retry
// repeats the same transaction. Scan targets are reused across ops.
type worker struct {
	o     *orders
	rng   *rand.Rand
	salt  uint64 // from the run id: new customer ids differ between runs with the same seed
	op    int
	batch pgx.Batch

	customerID int64  // new_customer: client-generated id
	name       string // new_customer
	fromID     int64  // list_customers: first id of the page

	orderID  [16]byte // new_order: client-generated id
	customer int64    // new_order
	lines    int      // new_order: entries used in product, quantity, price
	product  []int64  // new_order: distinct, ascending (a fixed lock order)
	quantity []int64  // new_order
	price    []int64  // new_order: unit prices read by the attempt

	key [16]byte // get_order: the first order at or after it is read

	priceProduct, newPrice int64 // update_price

	row         scanRow
	listDest    []any   // scan targets of list_customers
	orderDest   []any   // scan targets of get_order
	lineDest    []any   // scan targets of get_order's lines (app style)
	productDest []any   // scan targets of a product's row (app style); [2] is the line's price
	priceDest   [][]any // scan target of line i's price
}

// scanRow holds the columns that read ops scan and then drop.
type scanRow struct {
	id, customer, subtotal, product, quantity, unitPrice int64
	orderID                                              [16]byte
	created                                              time.Time
	name                                                 pgtype.DriverBytes
}

func newWorker(o *orders, rng *rand.Rand) *worker {
	n := o.maxLines
	w := &worker{
		o: o, rng: rng, salt: binary.LittleEndian.Uint64(o.runID[:8]),
		product: make([]int64, n), quantity: make([]int64, n), price: make([]int64, n),
		priceDest: make([][]any, n),
	}
	r := &w.row
	w.listDest = []any{&r.id, &r.name}
	w.orderDest = []any{&r.orderID, &r.customer, &r.subtotal, &r.created, &r.product, &r.name, &r.quantity, &r.unitPrice}
	w.lineDest = []any{&r.product, &r.quantity, &r.unitPrice, &r.name}
	w.productDest = []any{&r.product, &r.name, nil, &r.quantity}
	for i := range w.priceDest {
		w.priceDest[i] = []any{&w.price[i]}
	}
	return w
}

// customerNames are the names new customers get.
var customerNames = [...]string{"Ada", "Barbara", "Carl", "Dennis", "Edsger", "Frances", "Grace", "Hedy", "Ken", "Leslie", "Margaret", "Niklaus"}

// Next draws an op by the mix and fixes its arguments.
func (w *worker) Next() int {
	w.op = w.o.mix.draw(w.rng)
	switch w.op {
	case opNewCustomer:
		// Above the ids init loaded; 2^63 ids make a collision negligible.
		w.customerID = w.o.customers + int64((w.rng.Uint64()^w.salt)%uint64(math.MaxInt64-w.o.customers))
		w.name = customerNames[w.rng.IntN(len(customerNames))]
	case opListCustomers:
		w.fromID = w.rng.Int64N(w.o.customers)
	case opNewOrder:
		w.nextOrder()
	case opGetOrder:
		workloads.NewID(&w.key, w.rng, w.o.runID)
	case opUpdatePrice:
		w.priceProduct = w.rng.Int64N(w.o.productPool())
		w.newPrice = randomPrice(w.rng)
	}
	return w.op
}

// nextOrder fixes a new order: its id, a customer, and 1..max-lines
// distinct products of the pool with their quantities.
func (w *worker) nextOrder() {
	pool := w.o.productPool()
	workloads.NewID(&w.orderID, w.rng, w.o.runID)
	w.customer = w.rng.Int64N(w.o.customers)
	w.lines = 1 + int(w.rng.Int64N(min(int64(w.o.maxLines), pool)))
	for i := 0; i < w.lines; i++ {
		w.product[i] = w.distinctProduct(pool, i)
		w.quantity[i] = 1 + w.rng.Int64N(w.o.maxQuantity)
	}
	slices.Sort(w.product[:w.lines])
}

// distinctProduct draws a product below pool that is not among the first
// i already drawn; i < pool, so it terminates.
func (w *worker) distinctProduct(pool int64, i int) int64 {
	for {
		p := w.rng.Int64N(pool)
		if !slices.Contains(w.product[:i], p) {
			return p
		}
	}
}

// Attempt runs one attempt of the op Next fixed, inside tx, in the
// workload's transaction style.
func (w *worker) Attempt(ctx context.Context, tx pgx.Tx) error {
	return w.attemptStyle(ctx, tx, tx)
}

// oneStatement runs the ops that are one statement in every style.
func (w *worker) oneStatement(ctx context.Context, q workloads.Querier) error {
	switch w.op {
	case opNewCustomer:
		return w.newCustomer(ctx, q)
	case opListCustomers:
		return w.listCustomers(ctx, q)
	case opGetOrder:
		return w.getOrder(ctx, q)
	default:
		return w.updatePrice(ctx, q)
	}
}

// randomPrice returns a price from 1.00 to 99.99, in cents.
func randomPrice(rng *rand.Rand) int64 { return 100 + rng.Int64N(9900) }
