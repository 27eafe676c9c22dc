package floor

import (
	"fmt"

	"github.com/authbench/authbench/workloads"
	"github.com/authbench/authbench/workloads/bank"
)

// PostgreSQL type OIDs of the transfer's parameters.
const (
	oidInt8 = 20
	oidUUID = 2950
)

// Argument slots: the values a statement's parameters read, each encoded
// once per transfer into the client's slot buffers (binary format).
const (
	slotID = iota
	slotRunID
	slotSrc
	slotDst
	slotAmount
	slotNewBalance
	numSlots
)

// slotOf maps bank.Statement's parameter names to slots.
var slotOf = map[string]int{
	"id": slotID, "run_id": slotRunID, "src": slotSrc, "dst": slotDst, "amount": slotAmount, "new_balance": slotNewBalance,
}

// stmt is a prepared statement of the plan: its SQL and the slots of its
// parameters, in order.
type stmt struct {
	name  string
	sql   string
	slots []int
}

// oids are the parameter types the statement is prepared with.
func (s stmt) oids() []uint32 {
	out := make([]uint32, len(s.slots))
	for i, sl := range s.slots {
		out[i] = oidInt8
		if sl == slotID || sl == slotRunID {
			out[i] = oidUUID
		}
	}
	return out
}

// plan is a style's transfer as prepared statements and round trips:
// trips[i] lists the statements (indices into stmts) sent together,
// followed by one Sync. rollback is the round trip that ends a
// transaction an error left open; read is the round trip whose row holds
// the source's balance (app style), -1 when there is none.
type plan struct {
	style    string
	stmts    []stmt
	trips    [][]int
	rollback int
	read     int
}

// Indices of the transaction-control statements in every plan's stmts.
const (
	stBegin = iota
	stCommit
	stRollback
	stFirst // the style's own statements start here
)

// newPlan builds the plan of a style from the bank workload's own
// statements (bank.TransferStatements), in the round trips authbench and
// pgbench's transfer-<style>.sql send them on PostgreSQL.
func newPlan(style string) (*plan, error) {
	ts := bank.TransferStatements(style)
	if ts == nil {
		return nil, fmt.Errorf("unknown transaction style %q: use %s, %s or %s", style, workloads.StylePipelined, workloads.StyleApp, workloads.StyleSingle)
	}
	p := &plan{style: style, read: -1, stmts: []stmt{{sql: "BEGIN"}, {sql: "COMMIT"}, {sql: "ROLLBACK"}}}
	for _, s := range ts {
		st := stmt{sql: s.SQL}
		for _, name := range s.Params {
			st.slots = append(st.slots, slotOf[name])
		}
		p.stmts = append(p.stmts, st)
	}
	for i := range p.stmts {
		p.stmts[i].name = fmt.Sprintf("floor%d", i)
	}
	switch style {
	case workloads.StyleSingle:
		p.trips = [][]int{{stFirst}}
	case workloads.StylePipelined:
		p.trips = [][]int{{stBegin, stFirst, stFirst + 1, stFirst + 2}, {stCommit}}
	case workloads.StyleApp:
		p.trips = [][]int{{stBegin}, {stFirst}, {stFirst + 1}, {stFirst + 2}, {stFirst + 3}, {stCommit}}
		p.read = 2
	}
	p.rollback = len(p.trips)
	p.trips = append(p.trips, []int{stRollback})
	return p, nil
}

// roundTrips is how many round trips a transfer takes without errors.
func (p *plan) roundTrips() int { return p.rollback }
