package results

import (
	"fmt"
	"math"
	"sort"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// contribution is one run's tick that falls into a wall-clock second, with
// its per-op interval histograms (nil for a warm-up tick, svc also nil when
// service times are not merged).
type contribution struct {
	run  int
	tick *Tick
	lat  map[string]*hdr.Histogram
	svc  map[string]*hdr.Histogram
}

// bucketize groups every run's ticks by the wall-clock second holding the
// middle of their interval, in time order. Service intervals are taken
// when withSvc is set.
func bucketize(runs []*RunData, withSvc bool) ([]int64, map[int64][]contribution) {
	buckets := map[int64][]contribution{}
	for ri, r := range runs {
		k := 0
		for ti := range r.Ticks {
			t := &r.Ticks[ti]
			half := time.Duration(t.IntervalS * float64(time.Second) / 2)
			sec := t.Time.Add(-half).Unix()
			c := contribution{run: ri, tick: t}
			if !t.Warmup {
				c.lat = intervalAt(r.Intervals, k)
				if withSvc {
					c.svc = intervalAt(r.Service, k)
				}
				k++
			}
			buckets[sec] = append(buckets[sec], c)
		}
	}
	secs := make([]int64, 0, len(buckets))
	for s := range buckets {
		secs = append(secs, s)
	}
	sort.Slice(secs, func(a, b int) bool { return secs[a] < secs[b] })
	return secs, buckets
}

// intervalAt is every op's k-th interval.
func intervalAt(byOp map[string][]*hdr.Histogram, k int) map[string]*hdr.Histogram {
	out := make(map[string]*hdr.Histogram, len(byOp))
	for op, hs := range byOp {
		out[op] = hs[k]
	}
	return out
}

// cumState carries the running totals of the merged ticks.
type cumState struct {
	count, errors, retries map[string]int64
	measuredS              float64
	conns                  []int64 // each run's latest cumulative connections
}

// mergeTicks builds one tick per wall-clock second and, for each measured
// one, every op's added latency (and service-time) interval.
func (m *Merged) mergeTicks(runs []*RunData, ops []string, start time.Time, withSvc bool) error {
	secs, buckets := bucketize(runs, withSvc)
	cum := &cumState{count: map[string]int64{}, errors: map[string]int64{}, retries: map[string]int64{}, conns: make([]int64, len(runs))}
	for _, sec := range secs {
		b := &bucket{sec: sec, cs: buckets[sec], withSvc: withSvc}
		t, err := b.merge(ops, start, cum)
		if err != nil {
			return fmt.Errorf("merging the second at %s: %w", time.Unix(sec, 0).UTC().Format(time.RFC3339), err)
		}
		m.Ticks = append(m.Ticks, t)
		if t.Warmup {
			continue
		}
		for _, op := range ops {
			m.Intervals[op] = append(m.Intervals[op], b.lat[op])
			if withSvc {
				m.Service[op] = append(m.Service[op], b.svc[op])
			}
		}
	}
	return nil
}

// bucket is the ticks of one wall-clock second and, once merged, every
// op's added intervals.
type bucket struct {
	sec      int64
	cs       []contribution
	withSvc  bool
	lat, svc map[string]*hdr.Histogram
}

// merge builds the merged tick of the second.
func (b *bucket) merge(ops []string, start time.Time, cum *cumState) (Tick, error) {
	end := time.Unix(b.sec+1, 0).UTC()
	t := Tick{Time: end, Elapsed: end.Sub(start).Seconds(), IntervalS: 1, Warmup: true}
	b.lat, b.svc = map[string]*hdr.Histogram{}, map[string]*hdr.Histogram{}
	open := map[int]int64{} // each run's connections open at the second's end
	for _, c := range b.cs {
		t.Warmup = t.Warmup && c.tick.Warmup
		t.Events = append(t.Events, c.tick.Events...)
		cum.conns[c.run] = max(cum.conns[c.run], c.tick.ConnsOpened)
		t.Connects += c.tick.Connects
		t.ConnFailures += c.tick.ConnFailures
		t.HandshakeP99 = max(t.HandshakeP99, c.tick.HandshakeP99) // no histogram: the worst driver's
		open[c.run] = c.tick.OpenConns
	}
	for _, n := range open {
		t.OpenConns += n
	}
	if !t.Warmup {
		cum.measuredS += t.IntervalS
	}
	for _, op := range ops {
		lat, err := b.add(op, func(c contribution) *hdr.Histogram { return c.lat[op] }, op+HlogSuffix)
		if err != nil {
			return t, err
		}
		var svc *hdr.Histogram
		if b.withSvc {
			if svc, err = b.add(op, func(c contribution) *hdr.Histogram { return c.svc[op] }, ServiceFile); err != nil {
				return t, err
			}
		}
		b.lat[op], b.svc[op] = lat, svc
		t.Ops = append(t.Ops, mergeOpTick(op, b.cs, lat, svc, t.Warmup, cum))
	}
	for _, n := range cum.conns {
		t.ConnsOpened += n
	}
	sort.SliceStable(t.Events, func(a, b int) bool { return t.Events[a].Time.Before(t.Events[b].Time) })
	for i := range t.Events {
		t.Events[i].Elapsed = t.Events[i].Time.Sub(start).Seconds()
	}
	return t, nil
}

// add adds up the second's intervals that get picks, as an interval of the
// second; file names them in errors.
func (b *bucket) add(op string, get func(contribution) *hdr.Histogram, file string) (*hdr.Histogram, error) {
	h := NewHistogram()
	h.SetStartTimeMs(b.sec * 1000)
	h.SetEndTimeMs((b.sec + 1) * 1000)
	for _, c := range b.cs {
		if src := get(c); src != nil {
			if err := addHistogram(h, src, file); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// mergeOpTick sums one op's counts over the ticks of a second. Percentiles
// come from the merged interval histograms; a warm-up second has none
// (warm-up intervals are not logged), so it shows its worst tick's
// percentiles.
func mergeOpTick(op string, cs []contribution, lat, svc *hdr.Histogram, warmup bool, cum *cumState) OpTick {
	ot := OpTick{Op: op}
	perRun := map[int]*struct{ count, seconds float64 }{}
	for _, c := range cs {
		src := findOp(c.tick, op)
		if src == nil {
			continue
		}
		ot.Count += src.Count
		ot.Errors += src.Errors
		ot.Retries += src.Retries
		if !c.tick.Warmup {
			cum.count[op] += src.Count
			cum.errors[op] += src.Errors
			cum.retries[op] += src.Retries
		}
		if perRun[c.run] == nil {
			perRun[c.run] = &struct{ count, seconds float64 }{}
		}
		perRun[c.run].count += float64(src.Count)
		perRun[c.run].seconds += c.tick.IntervalS
		if warmup {
			ot.P50, ot.P95 = math.Max(ot.P50, src.P50), math.Max(ot.P95, src.P95)
			ot.P99, ot.Max = math.Max(ot.P99, src.P99), math.Max(ot.Max, src.Max)
			if svc != nil {
				ot.SvcP50, ot.SvcP99 = math.Max(ot.SvcP50, src.SvcP50), math.Max(ot.SvcP99, src.SvcP99)
			}
		}
	}
	for _, r := range perRun {
		ot.OpsPerSec += r.count / r.seconds
	}
	if !warmup {
		ot.setPercentiles(lat, svc)
	}
	ot.CumCount, ot.CumErrors, ot.CumRetries = cum.count[op], cum.errors[op], cum.retries[op]
	if cum.measuredS > 0 {
		ot.CumPerSec = float64(ot.CumCount) / cum.measuredS
	}
	return ot
}

func findOp(t *Tick, op string) *OpTick {
	for i := range t.Ops {
		if t.Ops[i].Op == op {
			return &t.Ops[i]
		}
	}
	return nil
}

// Points returns the merged throughput series for rotation analysis.
func (m *Merged) Points() []TickPoint {
	pts := make([]TickPoint, 0, len(m.Ticks))
	for i := range m.Ticks {
		pts = append(pts, pointOf(&m.Ticks[i]))
	}
	return pts
}

// window returns the length of the window every run was measuring in and
// each op's count in it (ticks that straddle its edges counted pro rata);
// when the runs do not overlap it is the union of their windows.
func (m *Merged) window(runs []*RunData) (float64, map[string]float64) {
	var from, to, uFrom, uTo time.Time
	for _, r := range runs {
		a, b, ok := measuredWindow(r.Ticks)
		if !ok {
			continue
		}
		if from.IsZero() || a.After(from) {
			from = a
		}
		if to.IsZero() || b.Before(to) {
			to = b
		}
		if uFrom.IsZero() || a.Before(uFrom) {
			uFrom = a
		}
		if uTo.IsZero() || b.After(uTo) {
			uTo = b
		}
	}
	if !to.After(from) {
		if uTo.After(uFrom) {
			m.Warnings = append(m.Warnings, "the runs do not overlap in time: ops_per_sec is over the union of their measured windows")
		}
		from, to = uFrom, uTo
	}
	counts := map[string]float64{}
	for _, r := range runs {
		for _, t := range r.Ticks {
			if f := overlap(t, from, to); f > 0 && !t.Warmup {
				for _, o := range t.Ops {
					counts[o.Op] += f * float64(o.Count)
				}
			}
		}
	}
	return to.Sub(from).Seconds(), counts
}

func measuredWindow(ticks []Tick) (from, to time.Time, ok bool) {
	for _, t := range ticks {
		if t.Warmup {
			continue
		}
		s := t.Time.Add(-time.Duration(t.IntervalS * float64(time.Second)))
		if !ok || s.Before(from) {
			from = s
		}
		if !ok || t.Time.After(to) {
			to = t.Time
		}
		ok = true
	}
	return from, to, ok
}

// overlap is the fraction of t's interval inside [from, to].
func overlap(t Tick, from, to time.Time) float64 {
	d := time.Duration(t.IntervalS * float64(time.Second))
	s := t.Time.Add(-d)
	if s.Before(from) {
		s = from
	}
	e := t.Time
	if e.After(to) {
		e = to
	}
	if !e.After(s) || d <= 0 {
		return 0
	}
	return float64(e.Sub(s)) / float64(d)
}
