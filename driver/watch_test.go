package driver

import (
	"context"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
)

// TestWatchStopsTheRun checks that Watch sees every tick, that the tick at
// the end of the ramp is warm-up (it covers the ramp's last second) and
// that a reason returned by Watch ends the run with it.
func TestWatchStopsTheRun(t *testing.T) {
	r := noopRun(0, 200)
	r.Config.Duration, r.Config.Ramp = time.Minute, 2*time.Second
	var warm []bool
	r.Watch = func(tk *results.Tick) string {
		warm = append(warm, tk.Warmup)
		if len(warm) == 3 {
			return "seen enough"
		}
		return ""
	}
	res := r.Execute(context.Background())
	if res.StopReason != "seen enough" || res.Interrupted || res.Err != nil {
		t.Fatalf("result %+v, want stopped by Watch", res)
	}
	if len(warm) < 3 || !warm[0] || !warm[1] || warm[2] {
		t.Errorf("warm-up flags of the ticks: %v, want true, true, false, ...", warm)
	}
}
