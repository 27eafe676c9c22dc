package faults

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
)

func TestFaultAtAndClassified(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := &results.Summary{
		Events: []results.Event{
			{Time: t0.Add(4 * time.Second), Elapsed: 4, Kind: results.FaultEvent},
			{Time: t0.Add(20 * time.Second), Elapsed: 20, Kind: results.FaultEvent},
		},
		Faults:  []results.RotationImpact{{Elapsed: 4, RecoveryS: 2}, {Elapsed: 20, RecoveryS: -1}},
		Retried: map[string]int64{"connection": 3},
	}
	if fi, err := FaultAt(s, t0.Add(4500*time.Millisecond)); err != nil || fi.Elapsed != 4 {
		t.Errorf("fault in the second of the injection: %+v, %v", fi, err)
	}
	if fi, err := FaultAt(s, t0.Add(10*time.Second)); err != nil || fi.Elapsed != 20 {
		t.Errorf("first fault after the injection: %+v, %v", fi, err)
	}
	if _, err := FaultAt(s, t0.Add(30*time.Second)); err == nil {
		t.Error("no fault after the injection must be an error")
	}
	if err := Classified(s, "auth", "connection"); err != nil {
		t.Error(err)
	}
	if err := Classified(s, "auth"); err == nil {
		t.Error("no auth error: want an error")
	}
	s.Errors = map[string]int64{"other": 1}
	if err := Classified(s, "connection"); err == nil || !strings.Contains(err.Error(), "could not classify") {
		t.Errorf("an unclassified error: %v", err)
	}
}

func TestEndsClean(t *testing.T) {
	write := func(errsLast int64) string {
		dir := t.TempDir()
		var b strings.Builder
		for i, errs := range []int64{5, 0, errsLast} {
			tk := results.Tick{Time: time.Unix(int64(i), 0), Elapsed: float64(i + 1), IntervalS: 1,
				Ops: []results.OpTick{{Op: "transfer", Count: 10, Errors: errs}}}
			line, _ := json.Marshal(tk)
			b.Write(append(line, '\n'))
		}
		if err := os.WriteFile(filepath.Join(dir, results.TicksFile), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	if err := EndsClean(write(0)); err != nil {
		t.Errorf("clean end: %v", err)
	}
	if err := EndsClean(write(1)); err == nil {
		t.Error("an error in the last second: want an error")
	}
}
