package results

import (
	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Latency returns the latency percentiles of every op of the tick
// together. Like the tick's histograms, it is only valid until the next
// Tick, so call it while the tick is handed out (driver.Run's Watch).
func (t *Tick) Latency() Percentiles {
	all := NewHistogram()
	if t.intervals != nil {
		for _, h := range t.intervals.lat {
			all.Merge(h)
		}
	}
	return PercentilesOf(all)
}

// PhaseHistogram returns a copy of the named handshake phase's histogram
// so far (in microseconds, warm-up included), or an empty one. Two copies
// taken apart in time give the phase's distribution between them.
func (r *Registry) PhaseHistogram(name string) *hdr.Histogram {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h := r.phases[name]; h != nil {
		return hdr.Import(h.Export())
	}
	return NewHistogram()
}

// HistogramSince returns the values recorded in now and not yet in before,
// two copies of one growing histogram (PhaseHistogram's).
func HistogramSince(now, before *hdr.Histogram) *hdr.Histogram {
	s := now.Export()
	b := before.Export()
	for i := range s.Counts {
		if i < len(b.Counts) {
			s.Counts[i] = max(s.Counts[i]-b.Counts[i], 0)
		}
	}
	return hdr.Import(s)
}
