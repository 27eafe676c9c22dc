package results

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// A fault (the database restarted, sessions killed, the load balancer or a
// credential issuer gone) shows as errors after a clean period: failed
// transactions, or failed attempts that the driver then retried, of any
// class but retryable (serialization failures are contention, not a
// fault). The tick that first has them records a FaultEvent, stamped at
// the start of its interval, and the summary analyses each one like a
// rotation: the dip, the errors in the window and the time back to 90 %
// of the throughput before it.

// FaultEvent is the kind of the event recorded when errors begin after a
// clean period.
const FaultEvent = "errors-began"

// faultQuietTicks is how many ticks without errors make a clean period, so
// that one fault in bursts is one event.
const faultQuietTicks = 3

// faultCounts are the failed attempts that were retried, by class, since
// the last tick; only the error paths touch them.
type faultCounts struct {
	retried [numClasses]atomic.Int64
	all     [numClasses]int64 // warm-up included, for /metrics; under Registry.mu
}

// AttemptFailed records an attempt that failed with class c and is retried.
// Failed transactions are recorded by their Recorder; this counts what the
// retries hide, so a fault they absorb is still seen and classified.
func (r *Registry) AttemptFailed(c Class) {
	if c < numClasses {
		r.faults.retried[c].Add(1)
	}
}

// noteFault takes the retried failures since the last tick into the
// totals and records a FaultEvent at the start of the interval when it has
// errors (other than retryable ones) after a clean period. Called by Tick
// with r.mu held, before the tick's events are handed out.
func (r *Registry) noteFault(intervalStart time.Time, warmup bool) {
	var byClass [numClasses]int64
	var n int64
	for c := ClassConnection; c < numClasses; c++ {
		retried := r.faults.retried[c].Swap(0)
		r.faults.all[c] += retried
		if !warmup {
			r.retriedErrs[c] += retried
		}
		byClass[c] = retried
		for i := range r.tickCnt {
			byClass[c] += r.tickCnt[i].byClass[c]
		}
		n += byClass[c]
	}
	if n == 0 {
		r.cleanTicks++
		return
	}
	clean := r.cleanTicks
	r.cleanTicks = 0
	if clean < faultQuietTicks {
		return
	}
	e := Event{
		Time: intervalStart, Elapsed: intervalStart.Sub(r.start).Seconds(),
		Kind: FaultEvent, Source: "driver", Detail: faultDetail(byClass, n),
	}
	// Events of this interval all came after its start: keep time order.
	r.events = slices.Insert(r.events, r.eventsOut, e)
}

// faultDetail says how many errors of which class the first second had.
func faultDetail(byClass [numClasses]int64, n int64) string {
	var parts []string
	for c := ClassConnection; c < numClasses; c++ {
		if byClass[c] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", c, byClass[c]))
		}
	}
	return fmt.Sprintf("%d errors in the first second (%s) after %d s without", n, strings.Join(parts, " "), faultQuietTicks)
}

// retriedByClass returns the measured window's retried failures by class
// name, nil when there were none.
func (r *Registry) retriedByClass() map[string]int64 {
	var out map[string]int64
	for c := ClassConnection; c < numClasses; c++ {
		if n := r.retriedErrs[c]; n > 0 {
			if out == nil {
				out = map[string]int64{}
			}
			out[c.String()] = n
		}
	}
	return out
}

// FaultImpacts computes, for every FaultEvent, what the fault did to the
// load, exactly as RotationImpacts does for a rotation.
func FaultImpacts(events []Event, ticks []TickPoint) []RotationImpact {
	var out []RotationImpact
	for _, e := range events {
		if e.Kind == FaultEvent {
			out = append(out, rotationImpact(e, ticks))
		}
	}
	return out
}
