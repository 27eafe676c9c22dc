package capacity

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Quantile names a latency statistic an objective can bound.
type Quantile string

// The latency statistics an objective can bound.
const (
	P50  Quantile = "p50"
	P95  Quantile = "p95"
	P99  Quantile = "p99"
	P999 Quantile = "p999"
	Max  Quantile = "max"
)

// quantiles lists them in order, for messages.
var quantiles = []Quantile{P50, P95, P99, P999, Max}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	P50, P95, P99, P999, Max float64
}

// At returns the statistic q of l.
func (l Latency) At(q Quantile) float64 {
	switch q {
	case P50:
		return l.P50
	case P95:
		return l.P95
	case P99:
		return l.P99
	case P999:
		return l.P999
	}
	return l.Max
}

// LatencyBound is one latency clause, e.g. p99<=50ms.
type LatencyBound struct {
	Quantile Quantile      `json:"quantile"`
	Limit    time.Duration `json:"limit_ns"`
}

// String returns the clause as written, e.g. "p99<=50ms".
func (b LatencyBound) String() string { return fmt.Sprintf("%s<=%s", b.Quantile, b.Limit) }

// LimitMs is the limit in milliseconds.
func (b LatencyBound) LimitMs() float64 { return float64(b.Limit) / float64(time.Millisecond) }

// Objective is what a step must hold to pass: every latency bound, and at
// most ErrorRatio of its transactions failed (when ErrorRatio > 0) or at
// most MaxErrors failed (when MaxErrors > 0).
type Objective struct {
	Latency    []LatencyBound `json:"latency,omitempty"`
	ErrorRatio float64        `json:"error_ratio,omitempty"` // a fraction: 0.001 for errors<=0.1%
	MaxErrors  int64          `json:"max_errors,omitempty"`  // absolute: errors<=5
	Text       string         `json:"text"`                  // as written
}

// String returns the objective as written.
func (o Objective) String() string { return o.Text }

// HasErrorBudget reports whether the objective bounds errors at all.
func (o Objective) HasErrorBudget() bool { return o.ErrorRatio > 0 || o.MaxErrors > 0 }

// ObjectiveError is an objective that does not parse; it says which clause
// and how to write it.
type ObjectiveError struct {
	Clause, Problem string
}

// Error says which clause is wrong, why, and how to write one.
func (e *ObjectiveError) Error() string {
	return fmt.Sprintf("objective clause %q: %s (write e.g. 'p99<=50ms,errors<=0.1%%': p50, p95, p99, p999 or max <= a duration, errors <= a percentage or a count)", e.Clause, e.Problem)
}

// ParseObjective parses a comma-separated list of clauses: a latency
// statistic (p50, p95, p99, p999, max) bounded by a positive duration, and
// at most one error budget, a percentage (errors<=0.1%) or a count
// (errors<=5). Every threshold must be positive.
func ParseObjective(s string) (Objective, error) {
	o := Objective{Text: strings.Join(strings.Fields(s), "")}
	if o.Text == "" {
		return o, &ObjectiveError{Clause: s, Problem: "the objective is empty"}
	}
	seen := map[string]bool{}
	for _, clause := range strings.Split(o.Text, ",") {
		name, value, ok := strings.Cut(clause, "<=")
		if !ok {
			return o, &ObjectiveError{Clause: clause, Problem: "a clause is NAME<=VALUE"}
		}
		name = strings.ToLower(name)
		if seen[name] {
			return o, &ObjectiveError{Clause: clause, Problem: name + " is bounded twice"}
		}
		seen[name] = true
		if err := o.add(clause, name, value); err != nil {
			return o, err
		}
	}
	return o, nil
}

func (o *Objective) add(clause, name, value string) error {
	if name == "errors" {
		return o.addErrors(clause, value)
	}
	q := Quantile(name)
	if q == "p99.9" {
		q = P999
	}
	known := false
	for _, k := range quantiles {
		known = known || k == q
	}
	if !known {
		return &ObjectiveError{Clause: clause, Problem: fmt.Sprintf("unknown statistic %q", name)}
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return &ObjectiveError{Clause: clause, Problem: fmt.Sprintf("%q is not a duration like 50ms", value)}
	}
	if d <= 0 {
		return &ObjectiveError{Clause: clause, Problem: "the threshold must be above zero: no step can hold it"}
	}
	o.Latency = append(o.Latency, LatencyBound{Quantile: q, Limit: d})
	return nil
}

func (o *Objective) addErrors(clause, value string) error {
	if pct, ok := strings.CutSuffix(value, "%"); ok {
		v, err := strconv.ParseFloat(pct, 64)
		if err != nil || v < 0 || v >= 100 {
			return &ObjectiveError{Clause: clause, Problem: fmt.Sprintf("%q is not a percentage below 100%%", value)}
		}
		if v == 0 {
			return &ObjectiveError{Clause: clause, Problem: "the threshold must be above zero: one failed transaction in a million would fail the step; use e.g. errors<=0.01%"}
		}
		o.ErrorRatio = v / 100
		return nil
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < 0 {
		return &ObjectiveError{Clause: clause, Problem: fmt.Sprintf("%q is neither a percentage (0.1%%) nor a count (5)", value)}
	}
	if n == 0 {
		return &ObjectiveError{Clause: clause, Problem: "the threshold must be above zero; use e.g. errors<=1 or errors<=0.01%"}
	}
	o.MaxErrors = n
	return nil
}
