package capacity

import (
	"math"
	"strconv"
)

// Plan bounds a search.
type Plan struct {
	Ceiling   float64 // the highest rate to offer: the closed-loop probe's throughput
	Precision float64 // stop once (lowest fail − highest pass) ≤ Precision × lowest fail; in (0, 0.5]
	MaxSteps  int     // at most this many steps (the probe not counted); 0 = no limit
	Growth    float64 // factor of the geometric rise and fall; default 2
	Start     float64 // the first rate; default Ceiling/4
	Floor     float64 // no rate below it is tried; default Ceiling/1000
}

func (p Plan) withDefaults() Plan {
	p.Ceiling = floor3(p.Ceiling)
	if p.Growth <= 1 {
		p.Growth = 2
	}
	if p.Start <= 0 {
		p.Start = p.Ceiling / 4
	}
	if p.Floor <= 0 {
		p.Floor = p.Ceiling / 1000
	}
	return p
}

// Step is one measured step of a search.
type Step struct {
	Rate float64 `json:"offered"`
	Verdict
}

// Status says how a search ended.
type Status string

// How a search ends.
const (
	Bracketed   Status = "bracketed"                  // the knee is known within the precision
	OutOfSteps  Status = "max-steps"                  // the step limit came first
	NeverPassed Status = "never-passed"               // no rate down to the floor held the objective
	NeverFailed Status = "never-failed-up-to-ceiling" // the ceiling itself held it
)

// Result is what a search found.
type Result struct {
	Status   Status  `json:"status"`
	Capacity float64 `json:"capacity"`   // highest passing rate below every failing one; 0 when none passed
	Pass     int     `json:"pass_step"`  // index of that step, -1 when none
	Fail     int     `json:"first_fail"` // index of the lowest failing step, -1 when none
}

// Decision is the next move: a rate to offer, or the end and its result.
type Decision struct {
	Rate   float64
	Done   bool
	Result Result
}

// Next decides, from the steps taken so far, the next rate to offer or that
// the search is over. It rises from Start by Growth until a step does not
// pass (or the ceiling passes), falls by Growth while none has passed, and
// then bisects between the highest pass and the lowest failure. Steps that
// did not pass (failed, lost or not offered) all bound the capacity from
// above; bisection only offers rates inside the bracket, so a noisy pass
// above a failure is never taken.
func Next(p Plan, steps []Step) Decision {
	p = p.withDefaults()
	r := Summarize(steps)
	if p.Ceiling <= 0 {
		return done(r, NeverPassed)
	}
	if len(steps) == 0 {
		return Decision{Rate: round3(math.Min(p.Start, p.Ceiling))}
	}
	var next float64
	switch {
	case r.Fail < 0: // rising
		if r.Capacity >= p.Ceiling*(1-1e-9) {
			return done(r, NeverFailed)
		}
		// A rate within the precision of the ceiling is the ceiling.
		if next = round3(r.Capacity * p.Growth); next >= p.Ceiling*(1-p.Precision) {
			next = p.Ceiling
		}
	case r.Pass < 0: // falling
		next = round3(steps[r.Fail].Rate / p.Growth)
		if next < p.Floor {
			return done(r, NeverPassed)
		}
	default: // bisecting
		lo, hi := r.Capacity, steps[r.Fail].Rate
		next = round3((lo + hi) / 2)
		if hi-lo <= p.Precision*hi || next <= lo || next >= hi {
			return done(r, Bracketed)
		}
	}
	if p.MaxSteps > 0 && len(steps) >= p.MaxSteps {
		return done(r, OutOfSteps)
	}
	return Decision{Rate: next}
}

func done(r Result, s Status) Decision {
	r.Status = s
	return Decision{Done: true, Result: r}
}

// Summarize finds the lowest step that did not pass and the highest pass
// below it.
func Summarize(steps []Step) Result {
	r := Result{Pass: -1, Fail: -1}
	for i, s := range steps {
		if s.Outcome != Pass && (r.Fail < 0 || s.Rate < steps[r.Fail].Rate) {
			r.Fail = i
		}
	}
	for i, s := range steps {
		below := r.Fail < 0 || s.Rate < steps[r.Fail].Rate
		if s.Outcome == Pass && below && (r.Pass < 0 || s.Rate > steps[r.Pass].Rate) {
			r.Pass = i
		}
	}
	if r.Pass >= 0 {
		r.Capacity = steps[r.Pass].Rate
	}
	return r
}

// round3 rounds v to three significant digits, so rates read well (and
// name step directories without a binary fraction's tail).
func round3(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	return r
}

// floor3 is round3 rounding down: the ceiling is never raised.
func floor3(v float64) float64 {
	if r := round3(v); r > v {
		mag := math.Pow(10, math.Floor(math.Log10(v))-2)
		return round3(r - mag)
	}
	return round3(v)
}
