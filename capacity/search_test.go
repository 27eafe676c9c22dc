package capacity

import (
	"math/rand/v2"
	"testing"
)

// system is a simulated database: what a step at a rate measures.
type system func(rate float64) Measurement

// knee is a system whose p99 is 10 ms below k ops/s and 400 ms above it;
// jitter (a fraction) moves the latency randomly around both levels.
func knee(k, jitter float64, seed uint64) system {
	rng := rand.New(rand.NewPCG(seed, 1))
	return func(rate float64) Measurement {
		p99 := 10.0
		if rate > k {
			p99 = 400 * rate / k
		}
		p99 *= 1 + jitter*(2*rng.Float64()-1)
		return measured(rate, p99)
	}
}

// constant is a system whose p99 never changes with the rate.
func constant(p99 float64) system {
	return func(rate float64) Measurement { return measured(rate, p99) }
}

func measured(rate, p99 float64) Measurement {
	return Measurement{
		Offered: rate, Achieved: rate, Latency: Latency{P50: p99 / 4, P95: p99 / 2, P99: p99, P999: p99 * 1.5, Max: p99 * 2},
		Service: Latency{P99: p99}, Total: int64(rate*20) + 1, Workers: 64, MeanServiceMs: 1,
	}
}

// search runs a whole search against sys and returns its result and steps.
func search(t *testing.T, p Plan, o Objective, sys system) (Result, []Step) {
	t.Helper()
	var steps []Step
	for i := 0; ; i++ {
		d := Next(p, steps)
		if d.Done {
			return d.Result, steps
		}
		if i > 100 {
			t.Fatalf("search does not end: %+v", steps)
		}
		if d.Rate <= 0 || d.Rate > p.Ceiling {
			t.Fatalf("step %d offers %g, outside (0, ceiling %g]", i, d.Rate, p.Ceiling)
		}
		steps = append(steps, Step{Rate: d.Rate, Verdict: Judge(o, sys(d.Rate))})
	}
}

func TestSearchFindsSharpKnee(t *testing.T) {
	o, _ := ParseObjective("p99<=50ms")
	for _, k := range []float64{37, 420, 777, 1234, 1999} {
		p := Plan{Ceiling: 2000, Precision: 0.05, MaxSteps: 12}
		r, steps := search(t, p, o, knee(k, 0, 1))
		if r.Status != Bracketed {
			t.Errorf("knee %g: status %s after %d steps", k, r.Status, len(steps))
			continue
		}
		fail := steps[r.Fail].Rate
		if r.Capacity > k || fail <= k || fail-r.Capacity > p.Precision*fail {
			t.Errorf("knee %g: capacity %g, first failure %g: not a bracket of the knee within 5%%", k, r.Capacity, fail)
		}
		if len(steps) > p.MaxSteps {
			t.Errorf("knee %g: %d steps, max %d", k, len(steps), p.MaxSteps)
		}
	}
}

func TestSearchStopsAtMaxSteps(t *testing.T) {
	o, _ := ParseObjective("p99<=50ms")
	p := Plan{Ceiling: 2000, Precision: 0.01, MaxSteps: 6}
	r, steps := search(t, p, o, knee(1234, 0, 1))
	if r.Status != OutOfSteps || len(steps) != 6 {
		t.Fatalf("status %s after %d steps, want max-steps after 6", r.Status, len(steps))
	}
	if fail := steps[r.Fail].Rate; r.Capacity > 1234 || fail <= 1234 {
		t.Errorf("capacity %g, first failure %g do not bracket the knee", r.Capacity, fail)
	}
}

// With noise, a step near the knee may pass or fail either way; the result
// must still be a consistent bracket: a pass below the lowest failure, and
// every rate it reports was measured.
func TestSearchWithNoise(t *testing.T) {
	o, _ := ParseObjective("p99<=50ms")
	for seed := uint64(1); seed <= 50; seed++ {
		p := Plan{Ceiling: 1000, Precision: 0.05, MaxSteps: 10}
		r, steps := search(t, p, o, knee(600, 0.5, seed))
		if r.Pass < 0 || r.Fail < 0 {
			t.Fatalf("seed %d: no bracket: %+v", seed, steps)
		}
		lo, hi := steps[r.Pass].Rate, steps[r.Fail].Rate
		if lo >= hi || steps[r.Pass].Outcome != Pass || steps[r.Fail].Outcome == Pass {
			t.Fatalf("seed %d: bracket [%g, %g] inconsistent: %+v", seed, lo, hi, steps)
		}
		// A 50 % jitter on 10 ms never reaches 50 ms, and on 400 ms never
		// falls to it: the bracket must still hold the knee.
		if lo > 600 || hi <= 600 {
			t.Errorf("seed %d: bracket [%g, %g] misses the knee 600", seed, lo, hi)
		}
		for _, s := range steps {
			if s.Outcome == Pass && s.Rate > lo && s.Rate < hi {
				t.Errorf("seed %d: pass at %g inside the bracket [%g, %g]", seed, s.Rate, lo, hi)
			}
		}
	}
}

func TestSearchNeverPasses(t *testing.T) {
	o, _ := ParseObjective("p99<=50ms")
	p := Plan{Ceiling: 1000, Precision: 0.05, MaxSteps: 20}
	r, steps := search(t, p, o, constant(900))
	if r.Status != NeverPassed || r.Capacity != 0 || r.Pass != -1 {
		t.Fatalf("got %+v after %v", r, steps)
	}
	if low := steps[len(steps)-1].Rate; low/2 >= p.Ceiling/1000 {
		t.Errorf("gave up at %g, before the floor %g", low, p.Ceiling/1000)
	}
	if r2, _ := search(t, Plan{Ceiling: 1000, MaxSteps: 3}, o, constant(900)); r2.Status != OutOfSteps || r2.Capacity != 0 {
		t.Errorf("with 3 steps: %+v", r2)
	}
	if r3 := Next(Plan{Ceiling: 0}, nil); !r3.Done || r3.Result.Status != NeverPassed {
		t.Errorf("a probe that achieved nothing: %+v", r3)
	}
}

func TestSearchNeverFails(t *testing.T) {
	o, _ := ParseObjective("p99<=50ms")
	p := Plan{Ceiling: 987, Precision: 0.05, MaxSteps: 10}
	r, steps := search(t, p, o, constant(3))
	if r.Status != NeverFailed || r.Capacity != 987 || r.Fail != -1 {
		t.Fatalf("got %+v after %+v", r, steps)
	}
	for i := 1; i < len(steps); i++ {
		if got := steps[i].Rate / steps[i-1].Rate; got > 2.0001 || got <= 1 {
			t.Errorf("step %d rises by %g, want geometric (≤ 2×)", i, got)
		}
	}
}

// A not-offered or lost step bounds the capacity like a failure.
func TestSearchTreatsNotOfferedAsUpperBound(t *testing.T) {
	steps := []Step{{250, Verdict{Pass, ""}}, {500, Verdict{Pass, ""}}, {1000, Verdict{NotOffered, "achieved 800"}}}
	d := Next(Plan{Ceiling: 1000, Precision: 0.05}, steps)
	if d.Done || d.Rate != 750 {
		t.Fatalf("next %+v, want 750", d)
	}
	steps = append(steps, Step{750, Verdict{Lost, "ended early"}})
	if d = Next(Plan{Ceiling: 1000, Precision: 0.05}, steps); d.Rate != 625 {
		t.Fatalf("next %+v, want 625", d)
	}
}

func TestRound3(t *testing.T) {
	for in, want := range map[float64]float64{1234.5: 1230, 0.12345: 0.123, 999.6: 1000, 62.5: 62.5, 18.900000000000002: 18.9} {
		if got := round3(in); got != want {
			t.Errorf("round3(%g) = %g, want %g", in, got, want)
		}
	}
	for in, want := range map[float64]float64{75.71871835927571: 75.7, 75.78: 75.7, 999.6: 999, 1000.4: 1000} {
		if got := floor3(in); got != want {
			t.Errorf("floor3(%g) = %g, want %g", in, got, want)
		}
	}
}
