package capacity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileRoundTripAndDamage(t *testing.T) {
	dir := t.TempDir()
	o, _ := ParseObjective("p99<=50ms")
	f := &File{Version: FileVersion, Workload: "bank", ConnMode: "pool", Unit: "tx/s", Objective: o, Precision: 0.05,
		Modes: []ModeEntry{
			{Mode: "cert", Probe: &StepEntry{Achieved: 1000}, Steps: []StepEntry{
				{Step: Step{Rate: 250, Verdict: Verdict{Pass, "within"}}, Latency: Latency{P99: 12}, Total: 1000},
				{Step: Step{Rate: 500, Verdict: Verdict{Fail, "p99 80.0ms > 50ms"}}, Latency: Latency{P99: 80}, Total: 2000}},
				Result: Result{Status: OutOfSteps, Capacity: 250, Pass: 0, Fail: 1}},
			{Mode: "vault", Result: Result{Pass: -1, Fail: -1}, Error: "cannot connect"},
		}}
	if err := f.Write(dir); err != nil {
		t.Fatal(err)
	}
	g, ok, err := ReadFile(dir)
	if err != nil || !ok || len(g.Modes) != 2 || g.Modes[0].Steps[1].Why != "p99 80.0ms > 50ms" || g.Objective.Latency[0] != o.Latency[0] {
		t.Fatalf("read back: %+v, %v, %v", g, ok, err)
	}
	md := g.Markdown()
	for _, want := range []string{"| cert | 250 | 12.0ms | 0 (0%) | 1000 | 500 | fail: p99 80.0ms > 50ms | 2 | max-steps |", "| vault | - |", "cannot connect"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if _, ok, err := ReadFile(t.TempDir()); ok || err != nil {
		t.Errorf("a directory without capacity.json: ok %v, %v", ok, err)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, JSONFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ReadFile(bad); !ok || err == nil || !strings.Contains(err.Error(), "not a valid capacity file") {
		t.Errorf("damaged file: ok %v, %v", ok, err)
	}
}
