package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/capacity"
	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
)

// second records n ops of latency d and folds them into a tick at start+k s.
func second(reg *results.Registry, rec *results.Recorder, start time.Time, k, n int, d time.Duration, warmup bool) *results.Tick {
	for i := 0; i < n; i++ {
		rec.Record(0, d, d/2, 0, results.ClassNone)
	}
	return reg.Tick(start.Add(time.Duration(k)*time.Second), warmup)
}

func TestWatcherEndsALostStep(t *testing.T) {
	o, _ := capacity.ParseObjective("p99<=50ms")
	start := time.Now()
	reg := results.NewRegistry([]string{"transfer"}, true, start)
	rec := reg.NewRecorder()
	w := newWatcher(o, capacity.Window{Offered: 100, Seconds: 20}, false, reg)
	// A slow warm-up second does not count; two slow seconds are not yet
	// lost, a fast one resets the run, then three slow ones are.
	steps := []struct {
		d      time.Duration
		warmup bool
		want   string
	}{{time.Second, true, ""}, {300 * time.Millisecond, false, ""}, {300 * time.Millisecond, false, ""}, {5 * time.Millisecond, false, ""},
		{300 * time.Millisecond, false, ""}, {300 * time.Millisecond, false, ""}, {300 * time.Millisecond, false, lostReason}}
	for k, s := range steps {
		if got := w.tick(second(reg, rec, start, k+1, 100, s.d, s.warmup)); got != s.want {
			t.Fatalf("second %d: watch said %q, want %q", k+1, got, s.want)
		}
	}
	if !strings.Contains(w.why, "p99 above 5× 50ms for 3 s") {
		t.Errorf("why: %q", w.why)
	}
	m := w.measurement(reg.Summary(start.Add(7*time.Second), nil), driver.Config{MaxRate: 100, Concurrency: 8})
	if v := capacity.Judge(o, m); v.Outcome != capacity.Lost {
		t.Errorf("verdict %+v, want lost", v)
	}
}

// With a connection per transaction the objective's latency is the
// handshake of the measured window only, and the achieved rate counts the
// connections opened in it.
func TestWatcherMeasuresHandshakesAfterWarmup(t *testing.T) {
	o, _ := capacity.ParseObjective("p99<=500ms")
	start := time.Now()
	reg := results.NewRegistry([]string{"transfer"}, true, start)
	rec := reg.NewRecorder()
	w := newWatcher(o, capacity.Window{Offered: 10, Seconds: 2}, true, reg)
	connect := func(n int, d time.Duration) {
		for i := 0; i < n; i++ {
			reg.Phase("total", d)
			reg.ConnOpened(d)
		}
	}
	connect(30, 900*time.Millisecond) // warm-up: slow
	w.tick(second(reg, rec, start, 1, 30, time.Millisecond, true))
	for k := 2; k <= 3; k++ {
		connect(10, 40*time.Millisecond)
		if got := w.tick(second(reg, rec, start, k, 10, time.Millisecond, false)); got != "" {
			t.Fatalf("second %d: %q", k, got)
		}
	}
	if p99 := w.secs[1].Latency.P99; p99 < 39 || p99 > 41 {
		t.Errorf("second 3's handshake p99 %g ms, want 40", p99)
	}
	m := w.measurement(reg.Summary(start.Add(3*time.Second), nil), driver.Config{MaxRate: 10, Concurrency: 4, ConnPerTxn: true})
	if m.Latency.P99 < 39 || m.Latency.P99 > 41 || m.Latency.Max > 41 {
		t.Errorf("measured handshake %+v, want 40 ms without the warm-up's 900 ms", m.Latency)
	}
	if m.Achieved < 9.9 || m.Achieved > 10.1 {
		t.Errorf("achieved %g conn/s, want 20 connections in 2 s", m.Achieved)
	}
	if v := capacity.Judge(o, m); v.Outcome != capacity.Pass {
		t.Errorf("verdict %+v", v)
	}
}
