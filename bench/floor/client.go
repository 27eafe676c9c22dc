package floor

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/authbench/authbench/workloads"
)

// reply is what one round trip returned.
type reply struct {
	sqlState string   // the first error's SQLSTATE; "" when none
	txStatus byte     // ReadyForQuery's status: 'I' idle, 'T' in a transaction, 'E' failed
	hasRow   bool     // a statement of the trip returned a row
	row      [2]int64 // the first row's first two INT8 columns
}

// roundTripper sends one round trip of a plan with the client's current
// argument values, then Sync, and reads every reply up to ReadyForQuery.
// An error is the connection's (the server's errors are in the reply).
type roundTripper interface {
	roundTrip(trip int, r *reply) error
	close() error
}

// slotBuf holds a client's argument values in PostgreSQL's binary format;
// slots are its slices, which the statements' parameters point into.
type slotBuf struct {
	buf   [2*16 + 4*8]byte
	slots [numSlots][]byte
}

func newSlotBuf(runID [16]byte) *slotBuf {
	s := &slotBuf{}
	s.slots[slotID], s.slots[slotRunID] = s.buf[0:16:16], s.buf[16:32:32]
	for i, sl := range []int{slotSrc, slotDst, slotAmount, slotNewBalance} {
		s.slots[sl] = s.buf[32+8*i : 40+8*i : 40+8*i]
	}
	copy(s.slots[slotRunID], runID[:])
	return s
}

func (s *slotBuf) putInt8(slot int, v int64) { binary.BigEndian.PutUint64(s.slots[slot], uint64(v)) }

// client is one connection sending transfers in a loop, as one pgbench
// client: draw a transfer, send its round trips, retry it on a
// serialization failure or deadlock, up to maxRetries times.
type client struct {
	plan       *plan
	rt         roundTripper
	args       *slotBuf
	rng        *rand.Rand
	runID      [16]byte
	accounts   int64
	maxAmount  int64
	maxRetries int
	id         [16]byte
	amount     int64
	rep        reply
	counts     Result
}

// draw fixes the next transfer: a fresh id, two distinct accounts and an
// amount, as pgbench's script and the bank workload draw them.
func (c *client) draw() {
	src := c.rng.Int64N(c.accounts)
	dst := c.rng.Int64N(c.accounts - 1)
	if dst >= src {
		dst++
	}
	c.amount = 1 + c.rng.Int64N(c.maxAmount)
	workloads.NewID(&c.id, c.rng, c.runID)
	copy(c.args.slots[slotID], c.id[:])
	c.args.putInt8(slotSrc, src)
	c.args.putInt8(slotDst, dst)
	c.args.putInt8(slotAmount, c.amount)
}

// transfer sends one transfer to its end: committed, rolled back for lack
// of funds, or failed after its retries.
func (c *client) transfer() error {
	c.draw()
	for try := 0; ; try++ {
		state, err := c.attempt()
		switch {
		case err != nil:
			return err
		case state == "":
			c.counts.Committed++
			return nil
		case retryable(state) && try < c.maxRetries:
			c.counts.Retries++
		default:
			c.counts.Failed++
			return nil
		}
	}
}

// attempt sends the plan's round trips once and returns the SQLSTATE of
// the error that ended it ("" when it committed or was rolled back for
// lack of funds).
func (c *client) attempt() (string, error) {
	p := c.plan
	for i := 0; i < p.roundTrips(); i++ {
		if err := c.rt.roundTrip(i, &c.rep); err != nil {
			return "", err
		}
		if c.rep.sqlState != "" {
			state := c.rep.sqlState
			return state, c.endTransaction()
		}
		if i == p.read {
			balance := c.rep.row[1]
			if !c.rep.hasRow || balance < c.amount {
				c.counts.Insufficient++
				return "", c.endTransaction()
			}
			c.args.putInt8(slotNewBalance, balance-c.amount)
		}
	}
	return "", nil
}

// endTransaction rolls back the transaction the last round trip left
// open, if any.
func (c *client) endTransaction() error {
	if c.rep.txStatus == 'I' {
		return nil
	}
	return c.rt.roundTrip(c.plan.rollback, &c.rep)
}

// retryable reports whether a SQLSTATE is a serialization failure or a
// deadlock, which pgbench --max-tries and authbench retry.
func retryable(state string) bool { return state == "40001" || state == "40P01" }
