package driver

import (
	"testing"
	"time"
)

// TestOpenLoopSlotsInterleave: the workers' open-loop schedules interleave,
// so that together they start an op every 1/MaxRate, ramp or not.
func TestOpenLoopSlotsInterleave(t *testing.T) {
	for _, ramp := range []time.Duration{0, time.Second, 333 * time.Millisecond} {
		start := time.Unix(1000, 0)
		rn := &runner{Run: &Run{Config: Config{Concurrency: 4, MaxRate: 400, Ramp: ramp}}, start: start}
		interval := 10 * time.Millisecond // 4 workers at 400 ops/s
		for i := 0; i < 4; i++ {
			begin := start.Add(ramp * time.Duration(i) / 4)
			slot := rn.firstSlot(i, begin, interval)
			if slot.Before(begin) || slot.Sub(begin) >= interval {
				t.Errorf("ramp %s worker %d: first slot %s after its begin, want within [0, %s)", ramp, i, slot.Sub(begin), interval)
			}
			if phase := slot.Sub(start) % interval; phase != time.Duration(i)*interval/4 {
				t.Errorf("ramp %s worker %d: phase %s, want %s", ramp, i, phase, time.Duration(i)*interval/4)
			}
		}
	}
	rn := &runner{Run: &Run{Config: Config{Concurrency: 4}}, start: time.Unix(1000, 0)}
	if begin := time.Unix(1001, 0); !rn.firstSlot(2, begin, 0).Equal(begin) {
		t.Error("a closed loop starts at begin")
	}
}
