package capacity

import (
	"fmt"
	"strings"
)

// Outcome is what a step showed.
type Outcome string

// The outcomes of a step. Only Pass counts as holding the objective; the
// others all bound the capacity from above.
const (
	Pass       Outcome = "pass"
	Fail       Outcome = "fail"        // the objective broke
	Lost       Outcome = "lost"        // clearly lost, ended early
	NotOffered Outcome = "not-offered" // the driver could not offer the rate
)

// MinAchieved is the share of the offered rate a step must achieve to count
// as offered: below it, the rate was not what the database was given.
const MinAchieved = 0.9

// BusyWorkers is the worker utilisation (time in transactions ÷ workers ×
// window) at which the driver, not the database, is taken to be the limit
// when the database itself answered within the objective.
const BusyWorkers = 0.9

// Measurement is what one step measured in its window (warm-up excluded).
type Measurement struct {
	Offered  float64 // ops (or connections) per second asked for; 0 for the closed-loop probe
	Achieved float64 // completed ops (or connections) per second
	Latency  Latency // of the objective's subject, from the intended start
	Service  Latency // the database's own time, without waiting for a worker (open loop)
	Errors   int64   // failed transactions
	Total    int64   // completed plus failed transactions
	Workers  int     // the driver's workers
	// MeanServiceMs is the mean time a worker spent on one op.
	MeanServiceMs float64
	// Early is the reason the step ended before its window did ("" if not).
	Early string
}

// ErrorRatio is the share of failed transactions.
func (m Measurement) ErrorRatio() float64 {
	if m.Total == 0 {
		return 0
	}
	return float64(m.Errors) / float64(m.Total)
}

// Verdict is a step's outcome and why.
type Verdict struct {
	Outcome Outcome `json:"outcome"`
	Why     string  `json:"why"`
}

// Judge decides whether m holds o. A step ended early is Lost. A step that
// held the objective was still not offered when it achieved less than
// MinAchieved of the offered rate, or when its workers were BusyWorkers
// busy; so is a latency breach caused by waiting for busy workers while the
// database answered within the objective.
func Judge(o Objective, m Measurement) Verdict {
	if m.Early != "" {
		return Verdict{Lost, m.Early}
	}
	if m.Total == 0 {
		return Verdict{Fail, "no transaction completed"}
	}
	errs := errorBreach(o, m)
	lat := latencyBreach(o, m.Latency)
	short := m.Offered > 0 && m.Achieved < MinAchieved*m.Offered
	if errs == "" && lat == "" {
		switch {
		case short:
			return Verdict{NotOffered, fmt.Sprintf("achieved %s of %s/s offered", Rate(m.Achieved), Rate(m.Offered))}
		case m.Offered > 0 && m.busy():
			return Verdict{NotOffered, fmt.Sprintf("all %d workers %.0f%% busy: no slack left to keep the schedule; the driver, not the database, set the rate", m.Workers, 100*m.utilisation())}
		}
		return Verdict{Pass, "within " + o.String()}
	}
	if errs == "" && short && latencyBreach(o, m.Service) == "" && m.busy() {
		return Verdict{NotOffered, fmt.Sprintf("all %d workers busy (%s/s achieved); the database answered within the objective, the wait was for a worker", m.Workers, Rate(m.Achieved))}
	}
	return Verdict{Fail, strings.Trim(lat+"; "+errs, "; ")}
}

// utilisation is the share of the window the workers spent in ops.
func (m Measurement) utilisation() float64 {
	if m.Workers == 0 {
		return 0
	}
	return m.Achieved * m.MeanServiceMs / 1000 / float64(m.Workers)
}

// busy reports whether the workers had no slack left: an open loop whose
// workers are all busy has become a closed one, its rate set by them.
func (m Measurement) busy() bool { return m.utilisation() >= BusyWorkers }

func latencyBreach(o Objective, l Latency) string {
	var out []string
	for _, b := range o.Latency {
		if v := l.At(b.Quantile); v > b.LimitMs() {
			out = append(out, fmt.Sprintf("%s %s > %s", b.Quantile, Ms(v), b.Limit))
		}
	}
	return strings.Join(out, ", ")
}

func errorBreach(o Objective, m Measurement) string {
	switch {
	case o.ErrorRatio > 0 && m.ErrorRatio() > o.ErrorRatio:
		return fmt.Sprintf("errors %s > %s", Pct(m.ErrorRatio()), Pct(o.ErrorRatio))
	case o.MaxErrors > 0 && m.Errors > o.MaxErrors:
		return fmt.Sprintf("errors %d > %d", m.Errors, o.MaxErrors)
	}
	return ""
}

// Rate formats a rate per second compactly: 1234, 56.7, 0.5.
func Rate(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// Ms formats milliseconds: 1.23ms, 45.6ms, 789ms.
func Ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

// Pct formats a ratio as a percentage: 0.1%, 2.35%.
func Pct(r float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", r*100), "0"), ".") + "%"
}
