package results

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// benchLatencies returns n latencies spread log-uniformly over 100 µs–1 s,
// the range a transaction's latency spans under load, so that recording
// touches as many histogram buckets as a real run does.
func benchLatencies(n int) []time.Duration {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]time.Duration, n)
	lo, hi := math.Log(float64(100*time.Microsecond)), math.Log(float64(time.Second))
	for i := range out {
		out[i] = time.Duration(math.Exp(lo + rng.Float64()*(hi-lo)))
	}
	return out
}

// BenchmarkRecorderRecord is the hot path of every op: one latency into
// the worker's own histogram (closed loop: latency only).
func BenchmarkRecorderRecord(b *testing.B) {
	benchRecord(b, false)
}

// BenchmarkRecorderRecordOpenLoop records latency and service time.
func BenchmarkRecorderRecordOpenLoop(b *testing.B) {
	benchRecord(b, true)
}

func benchRecord(b *testing.B, openLoop bool) {
	rec := NewRegistry([]string{"transfer"}, openLoop, time.Now()).NewRecorder()
	lat := benchLatencies(1024)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d := lat[i&1023]
		rec.Record(0, d, d/2, i&1, ClassNone)
	}
}

// TestRecordAllocatesNothing: once an op's histograms exist, recording a
// success, a retried success or an error allocates nothing.
func TestRecordAllocatesNothing(t *testing.T) {
	for _, openLoop := range []bool{false, true} {
		rec := NewRegistry([]string{"a", "b"}, openLoop, time.Now()).NewRecorder()
		lat := benchLatencies(64)
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			d := lat[i&63]
			rec.Record(i&1, d, d/2, i%3, ClassNone)
			rec.Record(1, d, d, 30, ClassRetryable)
			i++
		})
		if allocs != 0 {
			t.Errorf("open loop %v: Record allocates %.1f times per call, want 0", openLoop, allocs)
		}
	}
}

// tickOps are the numbers of ops recorded between two ticks in the tick
// benchmarks and tests: from an idle second to far more than a second of
// any real run holds.
var tickOps = []int{100, 10_000, 1_000_000, 100_000_000}

// fillRecorders puts n ops into the recorders as a run would leave them
// after one second: each recorder holds its share, spread over the same
// latency range. Values are recorded with counts, so that filling costs
// the same whatever n is and the benchmark measures only Tick.
func fillRecorders(recs []*Recorder, n int, lat []time.Duration) {
	per := int64(n / len(recs))
	distinct := int64(len(lat))
	for _, rec := range recs {
		h := rec.lat[0]
		if h == nil {
			h = NewHistogram()
			rec.lat[0] = h
		}
		k := min(per, distinct)
		for j := int64(0); j < k; j++ {
			c := per / k
			if j < per%k {
				c++
			}
			_ = h.RecordValues(int64(lat[j]/time.Microsecond), c)
		}
		rec.counts[0].ok += per
	}
}

// BenchmarkTick builds the per-second tick of 8 workers for a growing
// number of ops per second: its cost depends on the histograms' size, not
// on how many values they hold.
func BenchmarkTick(b *testing.B) {
	lat := benchLatencies(4096)
	for _, n := range tickOps {
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			reg := NewRegistry([]string{"transfer"}, false, time.Unix(0, 0))
			recs := make([]*Recorder, 8)
			for i := range recs {
				recs[i] = reg.NewRecorder()
			}
			now := time.Unix(0, 0)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				fillRecorders(recs, n, lat)
				now = now.Add(time.Second)
				b.StartTimer()
				reg.Tick(now, false)
			}
		})
	}
}

// TestTickAllocationsIndependentOfOps: building a tick allocates the same
// whether a hundred or a hundred million ops were recorded since the last.
func TestTickAllocationsIndependentOfOps(t *testing.T) {
	lat := benchLatencies(4096)
	var want float64
	for i, n := range tickOps {
		reg := NewRegistry([]string{"transfer"}, true, time.Unix(0, 0))
		recs := []*Recorder{reg.NewRecorder(), reg.NewRecorder()}
		now := time.Unix(0, 0)
		got := testing.AllocsPerRun(5, func() {
			fillRecorders(recs, n, lat)
			now = now.Add(time.Second)
			reg.Tick(now, false)
		})
		if i == 0 {
			want = got
		} else if got != want {
			t.Errorf("Tick after %d ops allocates %.0f times, after %d ops %.0f", n, got, tickOps[0], want)
		}
	}
}
