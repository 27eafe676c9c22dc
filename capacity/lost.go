package capacity

import "fmt"

// Early-stop thresholds: a step is clearly lost once the objective's
// latency is above LostLatencyFactor × its limit for LostSeconds seconds
// in a row, or its errors are above LostErrorFactor × the budget and can no
// longer fit in it.
const (
	LostLatencyFactor = 5
	LostSeconds       = 3
	LostErrorFactor   = 10
)

// Second is one measured second of a step.
type Second struct {
	Count   int64   // completed ops
	Errors  int64   // failed ops
	Latency Latency // of this second's completed ops; only P50, P95, P99 and Max need be set
}

// Window is what a step was asked to do.
type Window struct {
	Offered float64 // rate per second
	Seconds float64 // measured seconds
}

// IsLost reports, from the measured seconds so far, whether the step can
// no longer pass and is far enough from the objective that running it to
// the end would only hammer a struggling database; the reason says which
// rule. A second in which nothing completed while at least one op per 200 ms
// was offered counts as over the latency limit (the database stalled).
func IsLost(o Objective, w Window, secs []Second) string {
	if why := lostErrors(o, w, secs); why != "" {
		return why
	}
	for _, b := range o.Latency {
		limit := LostLatencyFactor * b.LimitMs()
		run := 0
		for _, s := range secs {
			if over(s, b.Quantile, limit, w.Offered) {
				run++
			} else {
				run = 0
			}
			if run >= LostSeconds {
				return fmt.Sprintf("%s above %d× %s for %d s", b.Quantile, LostLatencyFactor, b.Limit, LostSeconds)
			}
		}
	}
	return ""
}

// over reports whether second s is above limit for quantile q. Per second
// only p50, p95, p99 and max are known; p999 is judged by p99, which is
// never above it, so the rule never stops a step early by mistake.
func over(s Second, q Quantile, limit, offered float64) bool {
	if s.Count == 0 {
		return offered >= 5 && s.Errors == 0
	}
	if q == P999 {
		q = P99
	}
	return s.Latency.At(q) > limit
}

func lostErrors(o Objective, w Window, secs []Second) string {
	var errs, total int64
	for _, s := range secs {
		errs += s.Errors
		total += s.Count + s.Errors
	}
	switch {
	case o.MaxErrors > 0 && errs > LostErrorFactor*o.MaxErrors:
		return fmt.Sprintf("%d errors, above %d× the budget of %d", errs, LostErrorFactor, o.MaxErrors)
	case o.ErrorRatio > 0 && total > 0:
		ratio := float64(errs) / float64(total)
		// Even if every op still to come succeeded, the step could not pass.
		expected := w.Offered * w.Seconds
		if ratio > LostErrorFactor*o.ErrorRatio && float64(errs) > o.ErrorRatio*expected {
			return fmt.Sprintf("errors %s, above %d× the budget of %s", Pct(ratio), LostErrorFactor, Pct(o.ErrorRatio))
		}
	}
	return ""
}
