package driver

import (
	"context"
	"sync"
	"time"
)

// SpreadOffsets returns when, after a rotation's start, each of n
// instances rotates: all at once when spread is 0 (the storm), otherwise
// uniformly over spread, instance k (0-based) at k·spread/n.
func SpreadOffsets(n int, spread time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	if spread <= 0 || n <= 1 {
		return out
	}
	for k := range out {
		out[k] = spread * time.Duration(k) / time.Duration(n)
	}
	return out
}

// RotateSpread calls rotate for each of n instances at its offset of
// SpreadOffsets(n, spread) after now, every call in its own goroutine, and
// returns once all returned or ctx ended (instances not yet due are then
// skipped).
func RotateSpread(ctx context.Context, n int, spread time.Duration, rotate func(ctx context.Context, k int)) {
	start := time.Now()
	var wg sync.WaitGroup
	for k, off := range SpreadOffsets(n, spread) {
		t := time.NewTimer(time.Until(start.Add(off)))
		select {
		case <-ctx.Done():
			t.Stop()
			wg.Wait()
			return
		case <-t.C:
		}
		wg.Add(1)
		go func() { defer wg.Done(); rotate(ctx, k) }()
	}
	wg.Wait()
}
