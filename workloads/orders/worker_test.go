package orders

import (
	"math/rand/v2"
	"testing"
)

func TestNextFixesValidArgs(t *testing.T) {
	o := newOrders()
	if err := o.flags.Parse([]string{"--customers", "10", "--products", "4", "--max-lines", "5", "--hot-products", "3"}); err != nil {
		t.Fatal(err)
	}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	w := newWorker(o, rand.New(rand.NewPCG(3, 4)))
	for range 10000 {
		switch w.Next() {
		case opNewOrder:
			checkOrderArgs(t, w)
		case opUpdatePrice:
			if w.priceProduct < 0 || w.priceProduct >= 3 {
				t.Fatalf("update_price picked product %d outside the 3 hot products", w.priceProduct)
			}
		case opNewCustomer:
			if w.customerID < 10 {
				t.Fatalf("new_customer picked id %d, which init loaded", w.customerID)
			}
		}
	}
	if a := testing.AllocsPerRun(1000, func() { w.Next() }); a != 0 {
		t.Errorf("Next allocates %.1f times per call", a)
	}
}

// checkOrderArgs checks a new_order: 1..3 lines (capped by the hot pool),
// distinct ascending hot products, quantities within 1..max-quantity.
func checkOrderArgs(t *testing.T, w *worker) {
	t.Helper()
	if w.lines < 1 || w.lines > 3 {
		t.Fatalf("new_order has %d lines, want 1..3", w.lines)
	}
	for i := range w.lines {
		if p := w.product[i]; p < 0 || p >= 3 || (i > 0 && p <= w.product[i-1]) {
			t.Fatalf("new_order products %v are not distinct, ascending hot products", w.product[:w.lines])
		}
		if q := w.quantity[i]; q < 1 || q > 3 {
			t.Fatalf("new_order quantity %d outside 1..3", q)
		}
	}
}

func TestIDsDifferBetweenRuns(t *testing.T) {
	o := newOrders()
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	orders, customers := map[[16]byte]int{}, map[int64]int{}
	for run := 1; run <= 2; run++ {
		o.runID = [16]byte{byte(run), 0xa5, 7: byte(run)}
		w := newWorker(o, rand.New(rand.NewPCG(1, 2))) // the same seed in both runs
		for range 2000 {
			switch w.Next() {
			case opNewOrder:
				if r := orders[w.orderID]; r != 0 {
					t.Fatalf("run %d repeats order id %x of run %d with the same seed", run, w.orderID, r)
				}
				orders[w.orderID] = run
			case opNewCustomer:
				if r := customers[w.customerID]; r != 0 {
					t.Fatalf("run %d repeats customer id %d of run %d with the same seed", run, w.customerID, r)
				}
				customers[w.customerID] = run
			}
		}
	}
}
