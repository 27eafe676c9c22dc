package orders

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The ops, in the fixed order of Ops() and of the histograms.
const (
	opNewCustomer = iota
	opListCustomers
	opNewOrder
	opGetOrder
	opUpdatePrice
	numOps
)

// opNames are the op names, indexed by op.
var opNames = [numOps]string{"new_customer", "list_customers", "new_order", "get_order", "update_price"}

// defaultMix is the --mix default: mostly orders and reads.
const defaultMix = "new_customer=5,list_customers=20,new_order=40,get_order=30,update_price=5"

// mix holds the op weights and their cumulative sums, so that drawing an op
// is one random number and a scan of numOps entries.
type mix struct {
	weights [numOps]uint64
	cum     [numOps]uint64 // cum[i] = weights[0] + … + weights[i]
}

// parseMix parses "name=weight,…". Ops left out get weight 0; weights are
// non-negative integers and at least one must be positive.
func parseMix(s string) (*mix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, mixError("--mix is empty")
	}
	m := &mix{}
	var seen [numOps]bool
	for _, item := range strings.Split(s, ",") {
		name, weight, ok := strings.Cut(item, "=")
		name, weight = strings.TrimSpace(name), strings.TrimSpace(weight)
		if !ok || name == "" {
			return nil, mixError("--mix item %q is not name=weight", item)
		}
		op := opIndex(name)
		if op < 0 {
			return nil, mixError("--mix names unknown op %q", name)
		}
		if seen[op] {
			return nil, mixError("--mix gives %s twice", name)
		}
		seen[op] = true
		w, err := strconv.ParseUint(weight, 10, 32)
		if err != nil {
			return nil, mixError("--mix weight of %s must be an integer from 0 to %d, got %q", name, uint32(1<<32-1), weight)
		}
		m.weights[op] = w
	}
	var total uint64
	for i, w := range m.weights {
		total += w
		m.cum[i] = total
	}
	if total == 0 {
		return nil, mixError("--mix gives every op weight 0: at least one weight must be positive")
	}
	return m, nil
}

// mixError formats a --mix problem and appends how to write a valid mix.
func mixError(format string, args ...any) error {
	return errors.New(fmt.Sprintf(format, args...) +
		"; write name=weight,… with non-negative integer weights over the ops " + strings.Join(opNames[:], ", "))
}

// opIndex returns the index of the named op, or -1.
func opIndex(name string) int {
	for i, n := range opNames {
		if n == name {
			return i
		}
	}
	return -1
}

// draw picks an op with probability proportional to its weight.
func (m *mix) draw(rng *rand.Rand) int {
	r := rng.Uint64N(m.cum[numOps-1])
	for i, c := range m.cum {
		if r < c {
			return i
		}
	}
	return numOps - 1 // unreachable: r < cum[numOps-1]
}

// String returns the mix in canonical form: every op, in op order.
func (m *mix) String() string {
	var b strings.Builder
	for i, w := range m.weights {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(opNames[i])
		b.WriteByte('=')
		b.WriteString(strconv.FormatUint(w, 10))
	}
	return b.String()
}
