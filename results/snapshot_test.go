package results

import (
	"testing"
	"time"
)

func TestPhaseHistogramSince(t *testing.T) {
	r := NewRegistry([]string{"connect"}, false, time.Now())
	for i := 0; i < 100; i++ {
		r.Phase("total", 2*time.Millisecond)
	}
	before := r.PhaseHistogram("total")
	for i := 0; i < 10; i++ {
		r.Phase("total", 40*time.Millisecond)
	}
	since := PercentilesOf(HistogramSince(r.PhaseHistogram("total"), before))
	if since.Count != 10 || since.P50 < 39 || since.P50 > 41 {
		t.Errorf("since the copy: %+v, want 10 values of 40 ms", since)
	}
	if n := r.PhaseHistogram("tls").TotalCount(); n != 0 {
		t.Errorf("a phase never recorded has %d values", n)
	}
}

func TestTickLatencyMergesOps(t *testing.T) {
	start := time.Now()
	r := NewRegistry([]string{"a", "b"}, false, start)
	rec := r.NewRecorder()
	for i := 0; i < 90; i++ {
		rec.Record(0, time.Millisecond, time.Millisecond, 0, ClassNone)
	}
	for i := 0; i < 10; i++ {
		rec.Record(1, 100*time.Millisecond, 100*time.Millisecond, 0, ClassNone)
	}
	p := r.Tick(start.Add(time.Second), false).Latency()
	if p.Count != 100 || p.P50 > 1.1 || p.P99 < 99 {
		t.Errorf("merged tick latency %+v, want p50 1 ms and p99 100 ms over 100 ops", p)
	}
}
