package results

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: latencies are recorded in microseconds from 1 µs to
// MaxLatency with three significant digits. Longer values are clamped.
const (
	minLatencyUs = 1
	maxLatencyUs = int64(120 * time.Second / time.Microsecond)
	sigFigs      = 3
)

// MaxLatency is the largest latency a histogram can hold; longer ones are
// recorded as MaxLatency.
const MaxLatency = 120 * time.Second

// NewHistogram returns an empty latency histogram in microseconds.
func NewHistogram() *hdr.Histogram {
	return hdr.New(minLatencyUs, maxLatencyUs, sigFigs)
}

// recordDuration records d into h in microseconds, clamped to the bounds.
func recordDuration(h *hdr.Histogram, d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < minLatencyUs {
		us = minLatencyUs
	} else if us > maxLatencyUs {
		us = maxLatencyUs
	}
	_ = h.RecordValue(us) // cannot fail: value is within bounds
}

// Percentiles is a latency distribution in milliseconds.
type Percentiles struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// PercentilesOf summarises h (recorded in microseconds) in milliseconds.
func PercentilesOf(h *hdr.Histogram) Percentiles {
	if h == nil || h.TotalCount() == 0 {
		return Percentiles{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Percentiles{
		Count: h.TotalCount(),
		Mean:  h.Mean() / 1000,
		P50:   ms(h.ValueAtQuantile(50)),
		P95:   ms(h.ValueAtQuantile(95)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}
