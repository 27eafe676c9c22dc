package results

import (
	"path/filepath"
	"testing"
	"time"
)

func TestTickAndSummaryArithmetic(t *testing.T) {
	start := time.Unix(1000, 0)
	reg := NewRegistry([]string{"a", "b"}, false, start)
	w1, w2 := reg.NewRecorder(), reg.NewRecorder()
	for i := 0; i < 100; i++ {
		w1.Record(0, time.Duration(i+1)*time.Millisecond, 0, 0, ClassNone)
	}
	w2.Record(0, time.Millisecond, 0, 2, ClassNone)
	w2.Record(1, time.Millisecond, 0, 3, ClassRetryable)
	w2.Outcome(1, "out_of_stock", 0)

	warm := reg.Tick(start.Add(time.Second), true) // warm-up: counted as committed only
	if warm.Ops[0].Count != 101 || !warm.Warmup {
		t.Fatalf("warm-up tick = %+v", warm.Ops[0])
	}
	w1.Record(0, 10*time.Millisecond, 0, 0, ClassNone)
	w1.Record(0, 20*time.Millisecond, 0, 1, ClassNone)
	tk := reg.Tick(start.Add(3*time.Second), false)
	if got := tk.Ops[0]; got.Count != 2 || got.OpsPerSec != 1 || got.Retries != 1 || got.CumCount != 2 {
		t.Fatalf("tick = %+v", got)
	}
	if tk.Ops[0].P50 < 9.9 || tk.Ops[0].P50 > 10.1 || tk.Ops[0].Max < 19.9 || tk.Ops[0].Max > 20.1 {
		t.Fatalf("percentiles = %+v", tk.Ops[0])
	}
	s := reg.Summary(start.Add(3*time.Second), nil)
	a := s.Op("a")
	if a.Count != 2 || a.Committed != 103 || a.OpsPerSec != 1 || a.RetriedTxns != 1 || a.Retries != 1 {
		t.Fatalf("summary a = %+v", a)
	}
	if s.DurationS != 2 || s.WarmupS != 1 {
		t.Fatalf("duration %v warmup %v, want 2 and 1", s.DurationS, s.WarmupS)
	}
	b := s.Op("b")
	if b.Errors != 0 || len(b.Outcomes) != 0 {
		t.Fatalf("warm-up errors leaked into the measured window: %+v", b)
	}
}

func TestErrorsAndOutcomesCounted(t *testing.T) {
	start := time.Unix(0, 0)
	reg := NewRegistry([]string{"x"}, true, start)
	w := reg.NewRecorder()
	w.Record(0, 5*time.Millisecond, 2*time.Millisecond, 0, ClassNone)
	w.Record(0, time.Millisecond, time.Millisecond, 10, ClassRetryable)
	w.Record(0, time.Millisecond, time.Millisecond, 0, ClassConnection)
	w.Outcome(0, "insufficient_funds", 0)
	reg.Tick(start.Add(time.Second), false)
	s := reg.Summary(start.Add(time.Second), nil)
	x := s.Op("x")
	if x.Count != 1 || x.Errors != 2 || x.RetryFailures != 1 || x.ErrorsByClass["connection"] != 1 ||
		x.Outcomes["insufficient_funds"] != 1 || x.Retries != 10 {
		t.Fatalf("summary = %+v", x)
	}
	if s.Errors["retryable"] != 1 || s.Errors["connection"] != 1 {
		t.Fatalf("errors by class = %v", s.Errors)
	}
	if x.Service == nil || x.Service.P50 < 1.9 || x.Service.P50 > 2.1 || x.Latency.P50 < 4.9 {
		t.Fatalf("open loop must report service time next to latency: %+v %+v", x.Latency, x.Service)
	}
}

func TestHlogRoundTripMatchesSummary(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	reg := NewRegistry([]string{"transfer"}, false, start)
	files, err := CreateRunFiles(dir, reg.Ops(), start.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	w := reg.NewRecorder()
	for sec := 1; sec <= 3; sec++ {
		for i := 0; i < 50*sec; i++ {
			w.Record(0, time.Duration(i)*time.Microsecond*37, 0, 0, ClassNone)
		}
		if err := files.WriteTick(reg.Tick(start.Add(time.Duration(sec)*time.Second), false)); err != nil {
			t.Fatal(err)
		}
	}
	s := reg.Summary(start.Add(3*time.Second), files.Points())
	s.Workload = "bank"
	if err := s.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	if err := files.Close(); err != nil {
		t.Fatal(err)
	}
	hs, err := ReadHlog(filepath.Join(dir, "transfer.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, h := range hs {
		total += h.TotalCount()
	}
	back, err := ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 3 || total != back.Op("transfer").Count || total != 300 {
		t.Fatalf("hlog has %d intervals, %d values; summary says %d", len(hs), total, back.Op("transfer").Count)
	}
	ticks, err := ReadTicks(filepath.Join(dir, TicksFile))
	if err != nil || len(ticks) != 3 || ticks[2].Ops[0].Count != 150 {
		t.Fatalf("ticks = %+v, %v", ticks, err)
	}
}

func TestRotationImpact(t *testing.T) {
	var ticks []TickPoint
	for s := 1; s <= 40; s++ {
		ops := 100.0
		switch s {
		case 21:
			ops = 40
		case 22:
			ops = 80
		}
		errs := int64(0)
		if s == 21 {
			errs = 3
		}
		ticks = append(ticks, TickPoint{Elapsed: float64(s), OpsPerSec: ops, Errors: errs})
	}
	ev := []Event{{Elapsed: 20.5, Kind: ForcedRotation, Source: "vault", Rotation: true}, {Elapsed: 5, Kind: "login"},
		{Elapsed: 21, Kind: "rotation", Source: "vault", Rotation: true}} // the same rotation, noticed
	rs := RotationImpacts(ev, ticks)
	if len(rs) != 1 {
		t.Fatalf("want one rotation, got %d", len(rs))
	}
	r := rs[0]
	if r.BaselineOps != 100 || r.WorstOps != 40 || r.Dip != 0.4 || r.ErrorsWindow != 3 || r.RecoveryS != 2.5 {
		t.Fatalf("impact = %+v", r)
	}
	flat := RotationImpacts(ev[:1], ticks[:20])
	if flat[0].Dip != 1 || flat[0].RecoveryS != -1 {
		t.Fatalf("no ticks after the event must give dip 1 and recovery -1: %+v", flat[0])
	}
	// A run stopped 0.6 s into second 25: its last, partial point is noisy
	// and is not the worst second (which would leave no later point to
	// recover in), but its errors count.
	cut := append(append([]TickPoint(nil), ticks[:24]...), TickPoint{Elapsed: 24.6, OpsPerSec: 10, Errors: 1, Short: true})
	r = RotationImpacts(ev[:1], cut)[0]
	if r.WorstOps != 40 || r.RecoveryS != 2.5 || r.ErrorsWindow != 4 {
		t.Fatalf("a short last tick changed the impact: %+v", r)
	}
}

func TestPhaseOrder(t *testing.T) {
	got := PhaseOrder(map[string]int{"total": 1, "zz": 1, "tls": 1, "credential": 1})
	want := []string{"credential", "tls", "total", "zz"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("PhaseOrder = %v, want %v", got, want)
		}
	}
}
