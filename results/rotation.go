package results

import (
	"sort"
)

// TickPoint is the total throughput and errors of one tick, the input of the
// rotation analysis.
type TickPoint struct {
	Elapsed   float64 // end of the interval, seconds since start
	OpsPerSec float64
	Errors    int64
	Warmup    bool
	// Short marks an interval under shortTickS (the last, partial one of a
	// run stopped mid-second): it counts for errors, but its ops/s is too
	// noisy for it to be the worst second of a dip.
	Short bool
	// ConnsOpened is the number of connections opened so far.
	ConnsOpened int64
	// The storm columns: connections opened in the interval, its handshake
	// p99 and its worst op's latency p99 (ms).
	Connects     int64
	ConnFailures int64
	HandshakeP99 float64
	TxnP99       float64
}

// shortTickS is the interval below which a tick is Short.
const shortTickS = 0.9

// pointOf is the throughput point of a tick: its ops/s and errors summed
// over its ops.
func pointOf(t *Tick) TickPoint {
	p := TickPoint{Elapsed: t.Elapsed, Warmup: t.Warmup, Short: t.IntervalS < shortTickS, ConnsOpened: t.ConnsOpened,
		Connects: t.Connects, ConnFailures: t.ConnFailures, HandshakeP99: t.HandshakeP99}
	for _, o := range t.Ops {
		p.OpsPerSec += o.OpsPerSec
		p.Errors += o.Errors
		p.TxnP99 = max(p.TxnP99, o.P99)
	}
	return p
}

// RotationImpact is what one credential rotation did to the load.
type RotationImpact struct {
	Elapsed      float64 `json:"elapsed_s"`
	Kind         string  `json:"kind"`
	Source       string  `json:"source"`
	Detail       string  `json:"detail,omitempty"`
	BaselineOps  float64 `json:"baseline_ops_per_sec"` // median second in the 30 s before
	WorstOps     float64 `json:"worst_ops_per_sec"`    // worst second in the 10 s after
	Dip          float64 `json:"dip"`                  // worst ÷ baseline; 1 = no dip
	ErrorsWindow int64   `json:"errors_in_window"`     // errors in the 10 s after
	RecoveryS    float64 `json:"recovery_s"`           // from the event back to 90 % of baseline; -1 if never
	// NoConnChange says no connection was opened in the window after a
	// new credential arrived: no connection presented it, so its dip
	// measures nothing the rotation did (the table says so instead).
	NoConnChange bool `json:"no_connection_changed,omitempty"`
	// The storm columns, over the same 10 s window: the most connections
	// opened in one second, the connection attempts that failed, the worst
	// per-second handshake p99 and
	// transaction p99 (ms), and in a fleet the instances whose rotation
	// was done by the window's end (InstancesShare: of all instances).
	PeakConnectsS    int64   `json:"peak_connects_per_sec"`
	ConnFailures     int64   `json:"connection_failures_in_window"`
	HandshakeP99     float64 `json:"handshake_p99_ms"`
	TxnP99           float64 `json:"txn_p99_ms"`
	InstancesRotated int     `json:"instances_rotated,omitempty"`
	InstancesShare   float64 `json:"instances_rotated_share,omitempty"`
}

// Rotation analysis windows, in seconds.
const (
	rotationBaselineS = 30
	rotationWindowS   = 10
)

// ForcedRotation is the kind of the event `run --rotate-every` records when
// it forces a rotation.
const ForcedRotation = "rotate"

// RotationFailed is the kind of the event `run --rotate-every` records when
// a forced rotation did not happen; the summary counts them.
const RotationFailed = "rotation-failed"

// countKind counts the events of kind.
func countKind(events []Event, kind string) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// InstanceRotated is the kind of the event a fleet instance records when
// its part of a forced rotation is done (its Instance names it); it counts
// toward the share of the rotation that covers it, not as a rotation row.
const InstanceRotated = "instance-rotated"

// rotationMergeS is how soon after a forced rotation the auth mode's own
// rotation event counts as the same rotation, noticed.
const rotationMergeS = 5

// RotationImpacts computes the impact of every rotation event on the ticks.
// The mode noticing a forced rotation (a rotation event of the same source
// within rotationMergeS after it) is not counted again; neither is an event
// of one fleet instance (the fleet's rotation row covers it).
func RotationImpacts(events []Event, ticks []TickPoint) []RotationImpact {
	out := []RotationImpact{}
	forced := map[string]float64{}
	for _, e := range events {
		if !e.Rotation || e.Instance > 0 {
			continue
		}
		if e.Kind == ForcedRotation {
			forced[e.Source] = e.Elapsed
		} else if t, ok := forced[e.Source]; ok && e.Elapsed-t < rotationMergeS {
			delete(forced, e.Source)
			continue
		}
		ri := rotationImpact(e, ticks)
		ri.InstancesRotated = instancesRotated(events, e.Elapsed)
		out = append(out, ri)
	}
	return out
}

// instancesRotated counts the fleet instances whose part of a rotation was
// done in the window after from.
func instancesRotated(events []Event, from float64) int {
	seen := map[int]bool{}
	for _, e := range events {
		if e.Kind == InstanceRotated && e.Instance > 0 && e.Elapsed >= from && e.Elapsed <= from+rotationWindowS {
			seen[e.Instance] = true
		}
	}
	return len(seen)
}

// shareRotated sets each rotation's InstancesShare for a fleet of n
// instances (n > 1).
func shareRotated(rs []RotationImpact, n int) {
	if n <= 1 {
		return
	}
	for i := range rs {
		rs[i].InstancesShare = float64(rs[i].InstancesRotated) / float64(n)
	}
}

func rotationImpact(e Event, ticks []TickPoint) RotationImpact {
	ri := RotationImpact{Elapsed: e.Elapsed, Kind: e.Kind, Source: e.Source, Detail: e.Detail, Dip: 1, RecoveryS: -1}
	var before []float64
	worstIdx := -1
	for i, t := range ticks {
		if t.Warmup {
			continue
		}
		start := t.Elapsed - 1
		switch {
		case t.Elapsed <= e.Elapsed && t.Elapsed > e.Elapsed-rotationBaselineS:
			before = append(before, t.OpsPerSec)
		case t.Elapsed > e.Elapsed && start < e.Elapsed+rotationWindowS:
			ri.ErrorsWindow += t.Errors
			ri.PeakConnectsS = max(ri.PeakConnectsS, t.Connects)
			ri.ConnFailures += t.ConnFailures
			ri.HandshakeP99 = max(ri.HandshakeP99, t.HandshakeP99)
			ri.TxnP99 = max(ri.TxnP99, t.TxnP99)
			if t.Short {
				continue
			}
			if worstIdx < 0 || t.OpsPerSec < ticks[worstIdx].OpsPerSec {
				worstIdx = i
			}
		}
	}
	if len(before) == 0 || worstIdx < 0 {
		return ri
	}
	ri.NoConnChange = e.Kind != ForcedRotation && noConnOpened(e, ticks)
	ri.BaselineOps = median(before)
	ri.WorstOps = ticks[worstIdx].OpsPerSec
	if ri.BaselineOps > 0 {
		ri.Dip = ri.WorstOps / ri.BaselineOps
	}
	target := 0.9 * ri.BaselineOps
	if ri.WorstOps >= target {
		ri.RecoveryS = 0
		return ri
	}
	for _, t := range ticks[worstIdx+1:] {
		if t.OpsPerSec >= target {
			ri.RecoveryS = t.Elapsed - e.Elapsed
			break
		}
	}
	return ri
}

// noConnOpened reports whether no connection was opened from the tick that
// holds e to the end of its window (connection counts are cumulative).
func noConnOpened(e Event, ticks []TickPoint) bool {
	var at, end int64 = -1, -1
	for _, t := range ticks {
		if t.Elapsed <= e.Elapsed {
			at = t.ConnsOpened
		} else if t.Elapsed-1 < e.Elapsed+rotationWindowS {
			end = t.ConnsOpened
		}
	}
	return at > 0 && end == at
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
