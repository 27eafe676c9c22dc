package results

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// OpTick is one op's numbers for one interval.
type OpTick struct {
	Op         string  `json:"op"`
	Count      int64   `json:"count"`
	Errors     int64   `json:"errors"`
	Retries    int64   `json:"retries"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	CumPerSec  float64 `json:"ops_per_sec_cum"`
	P50        float64 `json:"p50_ms"`
	P95        float64 `json:"p95_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
	SvcP50     float64 `json:"service_p50_ms,omitempty"`
	SvcP99     float64 `json:"service_p99_ms,omitempty"`
	CumCount   int64   `json:"count_cum"`
	CumErrors  int64   `json:"errors_cum"`
	CumRetries int64   `json:"retries_cum"`
}

// Tick is one line of ticks.ndjson: what happened in one interval.
type Tick struct {
	Time        time.Time `json:"time"`
	Elapsed     float64   `json:"elapsed_s"`
	IntervalS   float64   `json:"interval_s"`
	Warmup      bool      `json:"warmup,omitempty"`
	Ops         []OpTick  `json:"ops"`
	ConnsOpened int64     `json:"connections_opened_cum"`
	// The storm columns: connections opened and connection attempts that
	// failed in this interval, connections open at its end and the p99 of
	// the handshakes (credential to ReadyForQuery) completed in it.
	Connects     int64   `json:"connections_opened,omitempty"`
	ConnFailures int64   `json:"connection_failures,omitempty"`
	OpenConns    int64   `json:"open_connections,omitempty"`
	HandshakeP99 float64 `json:"handshake_p99_ms,omitempty"`
	Events       []Event `json:"events,omitempty"`

	start     time.Time      // interval start
	intervals *intervalHists // this interval's histograms; valid until the next Tick
}

// intervalHists are the per-op histograms of one tick's interval: the
// Registry's scratch, reset every tick.
type intervalHists struct {
	lat []*hdr.Histogram // latency
	svc []*hdr.Histogram // service time (open loop); nil in a closed loop
}

// Tick folds every worker's data since the previous tick into a Tick. During
// warm-up the data is counted as seen by the database but left out of the
// measured statistics. The returned Tick's histograms are reused by the next
// call.
func (r *Registry) Tick(now time.Time, warmup bool) *Tick {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.ops {
		r.tickLat[i].Reset()
		r.tickSvc[i].Reset()
		r.tickCnt[i] = opCounts{}
	}
	for _, rec := range r.recorders {
		rec.drainInto(r.tickLat, r.tickSvc, r.tickCnt)
	}
	interval := now.Sub(r.lastTick)
	r.noteFault(r.lastTick, warmup)
	t := &Tick{
		Time: now, Elapsed: now.Sub(r.start).Seconds(), IntervalS: interval.Seconds(),
		Warmup: warmup, ConnsOpened: r.conns.opened.Load(),
		start: r.lastTick, intervals: &r.intervals,
	}
	r.lastTick = now
	r.stormColumns(t)
	if !warmup {
		r.measureS += interval
	}
	for i, name := range r.ops {
		c := &r.tickCnt[i]
		r.all[i].add(c)
		r.allLat[i].Merge(r.tickLat[i])
		if r.allSvc != nil {
			r.allSvc[i].Merge(r.tickSvc[i])
		}
		if !warmup {
			r.measured[i].add(c)
			r.cumLat[i].Merge(r.tickLat[i])
			r.cumSvc[i].Merge(r.tickSvc[i])
		}
		t.Ops = append(t.Ops, r.opTick(i, name, c, interval))
	}
	t.Events = append(t.Events, r.events[r.eventsOut:]...)
	r.eventsOut = len(r.events)
	return t
}

func (r *Registry) opTick(i int, name string, c *opCounts, interval time.Duration) OpTick {
	ot := OpTick{
		Op: name, Count: c.ok, Errors: c.errors, Retries: c.retries,
		CumCount: r.measured[i].ok, CumErrors: r.measured[i].errors, CumRetries: r.measured[i].retries,
	}
	if interval > 0 {
		ot.OpsPerSec = float64(c.ok) / interval.Seconds()
	}
	if r.measureS > 0 {
		ot.CumPerSec = float64(r.measured[i].ok) / r.measureS.Seconds()
	}
	var svc *hdr.Histogram
	if r.openLoop {
		svc = r.tickSvc[i]
	}
	ot.setPercentiles(r.tickLat[i], svc)
	return ot
}

// setPercentiles sets the tick's latency percentiles from lat and, when svc
// is not nil (open loop), its service-time ones from svc.
func (ot *OpTick) setPercentiles(lat, svc *hdr.Histogram) {
	p := PercentilesOf(lat)
	ot.P50, ot.P95, ot.P99, ot.Max = p.P50, p.P95, p.P99, p.Max
	if svc != nil {
		s := PercentilesOf(svc)
		ot.SvcP50, ot.SvcP99 = s.P50, s.P99
	}
}

// stormColumns fills t's connection columns and starts the next
// interval's handshake histogram; r.mu is held.
func (r *Registry) stormColumns(t *Tick) {
	opened, failed := r.conns.opened.Load(), r.conns.failed.Load()
	t.Connects, t.ConnFailures = opened-r.lastOpened, failed-r.lastFailed
	t.OpenConns = max(opened-r.conns.closed.Load(), 0)
	r.lastOpened, r.lastFailed = opened, failed
	r.hsMu.Lock()
	if r.tickHS.TotalCount() > 0 {
		t.HandshakeP99 = float64(r.tickHS.ValueAtQuantile(99)) / 1000
	}
	r.tickHS.Reset()
	r.hsMu.Unlock()
}
