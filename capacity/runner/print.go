package runner

import (
	"fmt"
	"strings"

	"github.com/authbench/authbench/capacity"
)

func (r *Runner) unit() string {
	if r.Driver.ConnPerTxn {
		return "conn/s"
	}
	return "tx/s"
}

// printProbe prints the probe's line: the ceiling of the search.
func (r *Runner) printProbe(mode string, p capacity.StepEntry) {
	fmt.Fprintf(r.Progress, "%-8s probe   closed loop, %d workers: %s %s, p50 %s p99 %s, errors %d; the search stays at or below it\n",
		mode, r.Driver.Concurrency, capacity.Rate(p.Achieved), r.unit(), capacity.Ms(p.Latency.P50), capacity.Ms(p.Latency.P99), p.Errors)
}

// printStep prints one step's line: mode, offered, achieved, p50/p99,
// errors, outcome and why.
func (r *Runner) printStep(mode string, n int, s capacity.StepEntry) {
	fmt.Fprintf(r.Progress, "%-8s step %-2d offered %s achieved %s %s, p50 %s p99 %s, errors %d (%s): %s, %s\n",
		mode, n, capacity.Rate(s.Rate), capacity.Rate(s.Achieved), r.unit(), capacity.Ms(s.Latency.P50), capacity.Ms(s.Latency.P99),
		s.Errors, capacity.Pct(ratioOf(s.Errors, s.Total)), outcomeWord(s.Outcome), s.Why)
}

// printResult prints how a mode's search ended.
func (r *Runner) printResult(e capacity.ModeEntry) {
	res := e.Result
	var what string
	switch res.Status {
	case capacity.NeverPassed:
		what = "never passed: no rate tried held " + r.Objective.String()
	case capacity.NeverFailed:
		what = fmt.Sprintf("never failed up to the ceiling: %s %s held the objective (more workers may find more)", capacity.Rate(res.Capacity), r.unit())
	default:
		what = fmt.Sprintf("capacity %s %s", capacity.Rate(res.Capacity), r.unit())
		if res.Fail >= 0 {
			what += fmt.Sprintf(", first failure at %s (%s)", capacity.Rate(e.Steps[res.Fail].Rate), e.Steps[res.Fail].Why)
		}
		if res.Status == capacity.OutOfSteps {
			what += "; the step limit came before the precision"
		}
	}
	fmt.Fprintf(r.Progress, "%-8s result  %s\n", e.Mode, what)
}

func ratioOf(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// outcomeWord is a step's outcome as its line shows it.
func outcomeWord(o capacity.Outcome) string {
	if o == capacity.Lost {
		return "LOST (ended early)"
	}
	return strings.ToUpper(string(o))
}
