package results

import (
	"strings"
	"testing"
	"time"
)

// faultRun drives a registry second by second: ok ops, then what each
// second adds, and returns the ticks as TickPoints.
type faultRun struct {
	t     *testing.T
	start time.Time
	reg   *Registry
	rec   *Recorder
	n     int
	pts   []TickPoint
}

func newFaultRun(t *testing.T) *faultRun {
	start := time.Unix(5000, 0)
	reg := NewRegistry([]string{"transfer"}, false, start)
	return &faultRun{t: t, start: start, reg: reg, rec: reg.NewRecorder()}
}

// second records ok successes and the given failures, then ticks.
func (f *faultRun) second(ok int, failed, retried []Class) *Tick {
	for range ok {
		f.rec.Record(0, time.Millisecond, 0, 0, ClassNone)
	}
	for _, c := range failed {
		f.rec.Record(0, time.Millisecond, 0, 0, c)
	}
	for _, c := range retried {
		f.reg.AttemptFailed(c)
	}
	f.n++
	tk := f.reg.Tick(f.start.Add(time.Duration(f.n)*time.Second), false)
	f.pts = append(f.pts, TickPoint{Elapsed: tk.Elapsed, OpsPerSec: tk.Ops[0].OpsPerSec, Errors: tk.Ops[0].Errors})
	return tk
}

func faultEvents(evs []Event) []Event {
	var out []Event
	for _, e := range evs {
		if e.Kind == FaultEvent {
			out = append(out, e)
		}
	}
	return out
}

func TestFaultEventAfterCleanPeriod(t *testing.T) {
	f := newFaultRun(t)
	conn := ClassConnection
	for range 4 {
		f.second(100, nil, nil)
	}
	f.reg.Event("login", "cert", "", false) // an event of the faulty second
	tk := f.second(0, []Class{ClassAuth}, []Class{conn, conn})
	if len(tk.Events) != 2 || tk.Events[0].Kind != FaultEvent || tk.Events[1].Kind != "login" {
		t.Fatalf("the faulty second's events = %+v, want errors-began first, then login", tk.Events)
	}
	e := tk.Events[0]
	if e.Elapsed != 4 || !strings.Contains(e.Detail, "connection=2 auth=1") {
		t.Errorf("event at %.1fs %q, want at 4.0s (the interval's start) with connection=2 auth=1", e.Elapsed, e.Detail)
	}
	f.second(0, nil, []Class{conn})                                 // still faulty: the same fault
	f.second(50, nil, nil)                                          // half way back
	f.second(100, nil, nil)                                         // recovered
	f.second(100, []Class{conn}, nil)                               // one clean second is not a clean period
	f.second(100, []Class{ClassRetryable}, []Class{ClassRetryable}) // contention is no fault
	s := f.reg.Summary(f.start.Add(time.Duration(f.n)*time.Second), f.pts)
	if got := faultEvents(s.Events); len(got) != 1 {
		t.Fatalf("%d fault events, want 1: %+v", len(got), s.Events)
	}
	if len(s.Faults) != 1 {
		t.Fatalf("faults = %+v, want one", s.Faults)
	}
	fi := s.Faults[0]
	if fi.BaselineOps != 100 || fi.WorstOps != 0 || fi.RecoveryS != 4 || fi.ErrorsWindow != 3 {
		t.Errorf("fault impact %+v: want baseline 100, worst 0, recovery 4 s (the first second back at 90 %%), 3 failed transactions in 10 s", fi)
	}
	if s.Retried["connection"] != 3 || s.Retried["retryable"] != 0 {
		t.Errorf("retried errors by class %v, want connection=3 and no retryable", s.Retried)
	}
	if len(s.Rotations) != 0 {
		t.Errorf("a fault is not a rotation: %+v", s.Rotations)
	}
}

func TestNoFaultEventWithoutCleanPeriod(t *testing.T) {
	f := newFaultRun(t)
	f.second(0, []Class{ClassConnection}, nil) // failing from the start: no baseline
	f.second(100, nil, nil)
	f.second(100, nil, nil)
	f.second(0, nil, []Class{ClassTimeout}) // two clean seconds only
	s := f.reg.Summary(f.start.Add(4*time.Second), f.pts)
	if len(faultEvents(s.Events)) != 0 || len(s.Faults) != 0 {
		t.Fatalf("fault events %+v without a clean period of %d s", s.Events, faultQuietTicks)
	}
}

func TestPrintSummaryShowsFaultsAndTLS(t *testing.T) {
	s := &Summary{
		Retried: map[string]int64{"connection": 7},
		Faults:  []RotationImpact{{Elapsed: 4, Kind: FaultEvent, Source: "driver", Dip: 0.1, RecoveryS: 2}},
		Server:  ServerInfo{TLS: "require", TLSWeakened: true},
	}
	var b strings.Builder
	PrintSummary(&b, s)
	for _, want := range []string{"failed attempts retried, by class: connection=7", "faults (errors after a clean period):",
		"errors-began", "TLS: WEAKENED to sslmode=require by --insecure"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}
