package driver

import (
	"math/rand/v2"
	"time"
)

// Backoff bounds for retried transactions.
const (
	BackoffBase = 5 * time.Millisecond
	BackoffMax  = 1 * time.Second
)

// Backoff returns how long to wait before retry number attempt (0-based):
// exponential from BackoffBase, capped at BackoffMax, with jitter in
// [d/2, d) so that workers that failed together do not retry together.
func Backoff(attempt int, rng *rand.Rand) time.Duration {
	d := BackoffMax
	if attempt < 16 {
		if e := BackoffBase << uint(attempt); e < BackoffMax {
			d = e
		}
	}
	half := d / 2
	return half + time.Duration(rng.Int64N(int64(half)))
}
