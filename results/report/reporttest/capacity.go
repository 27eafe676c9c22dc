package reporttest

import (
	"fmt"
	"path/filepath"

	"github.com/authbench/authbench/capacity"
)

// Capacity writes a capacity directory as `authbench capacity` would: for
// every mode a probe and the steps of a search against a simulated system
// whose p99 rises sharply past knees[i] tx/s, each step a synthetic run
// directory, and capacity.json and capacity.md. It returns the file.
func Capacity(dir string, modes []string, knees []float64, objective string) (*capacity.File, error) {
	obj, err := capacity.ParseObjective(objective)
	if err != nil {
		return nil, err
	}
	f := &capacity.File{
		Version: capacity.FileVersion, Workload: "bank", ConnMode: "pool", Unit: "tx/s", Objective: obj,
		Precision: 0.05, MaxSteps: 8, StepSeconds: 5, LatencyLabel: "transaction latency from its intended start",
	}
	for i, mode := range modes {
		e := capacity.ModeEntry{Mode: mode}
		probe := 1.6 * knees[i]
		e.Probe = &capacity.StepEntry{Dir: fmt.Sprintf("%s-00-probe", mode), Achieved: probe, Latency: simulated(probe, knees[i]), Total: int64(probe * 5)}
		plan := capacity.Plan{Ceiling: probe, Precision: f.Precision, MaxSteps: f.MaxSteps}
		for {
			d := capacity.Next(plan, e.SearchSteps())
			if d.Done {
				e.Result = d.Result
				break
			}
			e.Steps = append(e.Steps, simulatedStep(obj, mode, len(e.Steps)+1, d.Rate, knees[i]))
		}
		f.Modes = append(f.Modes, e)
		for n, s := range append([]capacity.StepEntry{*e.Probe}, e.Steps...) {
			sp := Spec{Auth: mode, Seconds: 7, Warmup: 2, Seed: uint64(100*i + n + 1), Rate: int(s.Achieved) + 1}
			if _, err := Write(filepath.Join(dir, s.Dir), sp); err != nil {
				return nil, err
			}
		}
	}
	return f, f.Write(dir)
}

// simulated is the latency of a system with a knee at k: flat below it,
// steep above it.
func simulated(rate, k float64) capacity.Latency {
	p99 := 8 + 30*rate/k
	if rate > k {
		p99 = 40 + 900*(rate-k)/k*4
	}
	return capacity.Latency{P50: p99 / 5, P95: p99 / 2, P99: p99, P999: p99 * 1.3, Max: p99 * 1.6}
}

func simulatedStep(o capacity.Objective, mode string, n int, rate, k float64) capacity.StepEntry {
	lat := simulated(rate, k)
	achieved := rate
	if rate > k {
		achieved = k * 1.05
	}
	m := capacity.Measurement{Offered: rate, Achieved: achieved, Latency: lat, Service: lat, Total: int64(rate * 5), Workers: 16, MeanServiceMs: lat.P50}
	return capacity.StepEntry{
		Step: capacity.Step{Rate: rate, Verdict: capacity.Judge(o, m)},
		Dir:  fmt.Sprintf("%s-%02d-%g", mode, n, rate), Achieved: achieved, Latency: lat, Total: m.Total,
	}
}
