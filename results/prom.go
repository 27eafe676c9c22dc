package results

import (
	"math"
	"sort"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// latencyBuckets are the upper bounds, in seconds, of the classic buckets
// of every latency histogram on /metrics: 100 µs to 60 s in 1-2-5 steps.
var latencyBuckets = []float64{
	.0001, .0002, .0005, .001, .002, .005, .01, .02, .05,
	.1, .2, .5, 1, 2, 5, 10, 20, 30, 60,
}

// nativeSchema is the schema of the native histograms on /metrics: 3, a
// bucket factor of 2^(1/8) ≈ 1.09.
const nativeSchema = 3

// CollectorOpts labels a run's metrics and carries its configured gauges.
type CollectorOpts struct {
	// Workload and AuthMode become the workload and auth_mode labels of
	// every metric.
	Workload, AuthMode string
	// Workers is the number of workers (--concurrency).
	Workers int
	// TargetRate is the open-loop target in ops/s (0 = closed loop).
	TargetRate float64
}

// Collector is a prometheus.Collector that turns a Registry into const
// metrics at scrape time: the all-time HdrHistograms (warm-up included)
// become histograms with classic and native buckets, the counters become
// counters. Nothing is recorded per op: the driver's hot path never sees
// Prometheus, and the data changes once a tick.
type Collector struct {
	reg  *Registry
	opts CollectorOpts
	d    promDescs
}

// promDescs are the descriptions of every metric the Collector exports.
type promDescs struct {
	latency, service, ops, errors, retries, retried, outcomes, ambiguous *prometheus.Desc
	phase, opened, failed, closed, open, events, rotations               *prometheus.Desc
	faults, retriedErrors                                                *prometheus.Desc
	workers, targetRate                                                  *prometheus.Desc
}

// NewCollector returns a Collector for reg; register it with a
// prometheus.Registry that the caller owns.
func NewCollector(reg *Registry, opts CollectorOpts) *Collector {
	c := prometheus.Labels{"workload": opts.Workload, "auth_mode": opts.AuthMode}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("authbench_"+name, help, labels, c)
	}
	return &Collector{reg: reg, opts: opts, d: promDescs{
		latency:    d("op_latency_seconds", "Latency of successful ops, from the intended start in an open loop (warm-up included).", "op"),
		service:    d("op_service_time_seconds", "Service time of successful ops: from the actual start (equal to the latency in a closed loop).", "op"),
		ops:        d("ops_total", "Successful ops.", "op"),
		errors:     d("errors_total", "Failed ops by error class.", "op", "class"),
		retries:    d("retries_total", "Retried attempts (SQLSTATE 40001/40P01 or a lost connection).", "op"),
		retried:    d("retried_transactions_total", "Transactions that needed at least one retry.", "op"),
		outcomes:   d("outcomes_total", "Ops rolled back on purpose by the workload (neither success nor error).", "op", "outcome"),
		ambiguous:  d("ambiguous_commits_total", "Transactions whose COMMIT reply was lost: the database may hold them.", "op"),
		phase:      d("handshake_phase_seconds", "Duration of each connection handshake phase.", "phase"),
		opened:     d("connections_opened_total", "Connections opened (handshake complete)."),
		failed:     d("connections_failed_total", "Connection attempts that failed."),
		closed:     d("connections_closed_total", "Connections closed (retired) by the pool or the driver."),
		open:       d("connections_open", "Connections open now (opened minus closed): a fleet's held connections."),
		events:     d("events_total", "Credential events: logins, renewals, rotations, retirements.", "kind", "source"),
		rotations:  d("rotations_total", "Events that replaced the credential in use.", "kind", "source"),
		workers:    d("workers", "Workers running (--concurrency)."),
		targetRate: d("target_rate", "Open-loop target in ops per second (0 = closed loop)."),

		// Faults (faults.go).
		faults:        d("fault_events_total", "Fault events: errors (failed or retried, serialization conflicts aside) after a clean period."),
		retriedErrors: d("retried_errors_total", "Failed attempts that were retried, by error class (serialization conflicts are in retries_total).", "class"),
	}}
}

// Describe sends the description of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.d.latency, c.d.service, c.d.ops, c.d.errors, c.d.retries, c.d.retried, c.d.outcomes, c.d.ambiguous,
		c.d.phase, c.d.opened, c.d.failed, c.d.closed, c.d.open, c.d.events, c.d.rotations,
		c.d.faults, c.d.retriedErrors, c.d.workers, c.d.targetRate,
	} {
		ch <- d
	}
}

// Collect copies the registry under its mutex and sends every metric.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.reg.promSnapshot()
	for i := range s.ops {
		c.collectOp(ch, &s.ops[i], s.start)
	}
	for _, name := range PhaseOrder(s.phases) {
		ch <- c.histogram(c.d.phase, s.phases[name], s.start, name)
	}
	ch <- c.counter(c.d.opened, s.opened, s.start)
	ch <- c.counter(c.d.failed, s.failed, s.start)
	ch <- c.counter(c.d.closed, s.closed, s.start)
	ch <- prometheus.MustNewConstMetric(c.d.open, prometheus.GaugeValue, float64(max(s.opened-s.closed, 0)))
	c.collectEvents(ch, s)
	c.collectFaults(ch, s)
	ch <- prometheus.MustNewConstMetric(c.d.workers, prometheus.GaugeValue, float64(c.opts.Workers))
	ch <- prometheus.MustNewConstMetric(c.d.targetRate, prometheus.GaugeValue, c.opts.TargetRate)
}

// collectOp sends one op's histograms and counters. Every error class is
// sent, at 0 until it happens, so that rate() sees the first error.
func (c *Collector) collectOp(ch chan<- prometheus.Metric, op *promOp, start time.Time) {
	ch <- c.histogram(c.d.latency, op.lat, start, op.name)
	svc := op.svc
	if svc == nil {
		svc = op.lat // closed loop: service time is the latency
	}
	ch <- c.histogram(c.d.service, svc, start, op.name)
	ch <- c.counter(c.d.ops, op.counts.ok, start, op.name)
	for cl := ClassRetryable; cl < numClasses; cl++ {
		ch <- c.counter(c.d.errors, op.counts.byClass[cl], start, op.name, cl.String())
	}
	ch <- c.counter(c.d.retries, op.counts.retries, start, op.name)
	ch <- c.counter(c.d.retried, op.counts.retriedTxns, start, op.name)
	ch <- c.counter(c.d.ambiguous, op.counts.ambiguous, start, op.name)
	for name, n := range op.counts.outcomes {
		ch <- c.counter(c.d.outcomes, n, start, op.name, name)
	}
}

// collectEvents sends the event and rotation counters. The run's own auth
// mode has a rotation series in both from the start, at 0, so that
// increase() sees its first rotation.
func (c *Collector) collectEvents(ch chan<- prometheus.Metric, s *promSnapshot) {
	own := eventKey{kind: "rotation", source: c.opts.AuthMode}
	for _, m := range []map[eventKey]int64{s.events, s.rotations} {
		if _, ok := m[own]; !ok && c.opts.AuthMode != "" {
			m[own] = 0
		}
	}
	for k, n := range s.events {
		ch <- c.counter(c.d.events, n, s.start, k.kind, k.source)
	}
	for k, n := range s.rotations {
		ch <- c.counter(c.d.rotations, n, s.start, k.kind, k.source)
	}
}

// collectFaults sends the fault event counter and the retried failures by
// class, every class from the start at 0, so that rate() and increase()
// see the first one.
func (c *Collector) collectFaults(ch chan<- prometheus.Metric, s *promSnapshot) {
	ch <- c.counter(c.d.faults, s.faults, s.start)
	for cl := ClassConnection; cl < numClasses; cl++ {
		ch <- c.counter(c.d.retriedErrors, s.retried[cl], s.start, cl.String())
	}
}

func (c *Collector) counter(d *prometheus.Desc, n int64, created time.Time, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetricWithCreatedTimestamp(d, prometheus.CounterValue, float64(n), created, labels...)
}

func (c *Collector) histogram(d *prometheus.Desc, h *hdr.Histogram, created time.Time, labels ...string) prometheus.Metric {
	m, err := histogramMetric(d, h, created, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// promSnapshot is what the Collector exports, copied under the registry's
// mutex so that the conversion runs without holding it.
type promSnapshot struct {
	start                  time.Time
	ops                    []promOp
	phases                 map[string]*hdr.Histogram
	events, rotations      map[eventKey]int64
	opened, failed, closed int64
	faults                 int64
	retried                [numClasses]int64 // failed attempts retried, by class
}

// promOp is one op's all-time data.
type promOp struct {
	name     string
	counts   opCounts
	lat, svc *hdr.Histogram // svc is nil in a closed loop
}

// eventKey groups events for their counters.
type eventKey struct{ kind, source string }

// promSnapshot copies the all-time data: counters including warm-up, the
// all-time histograms, the handshake phases and event counts.
func (r *Registry) promSnapshot() *promSnapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &promSnapshot{
		start: r.start, phases: make(map[string]*hdr.Histogram, len(r.phases)),
		events: map[eventKey]int64{}, rotations: map[eventKey]int64{},
		opened: r.conns.opened.Load(), failed: r.conns.failed.Load(), closed: r.conns.closed.Load(),
		retried: r.faults.all,
	}
	for i, name := range r.ops {
		op := promOp{name: name, lat: r.allLat[i].Clone()}
		op.counts.add(&r.all[i]) // copies the outcomes map
		if r.allSvc != nil {
			op.svc = r.allSvc[i].Clone()
		}
		s.ops = append(s.ops, op)
	}
	for name, h := range r.phases {
		s.phases[name] = h.Clone()
	}
	for _, e := range r.events {
		k := eventKey{kind: e.Kind, source: e.Source}
		s.events[k]++
		if e.Rotation {
			s.rotations[k]++
		}
		if e.Kind == FaultEvent {
			s.faults++
		}
	}
	return s
}

// histogramMetric turns h (recorded in microseconds) into a const
// Prometheus histogram in seconds with both the classic latencyBuckets and
// native buckets of nativeSchema. Each HdrHistogram bucket counts at its
// lowest value, so bucket edges are exact to HdrHistogram's precision
// (three significant digits); the sum uses each bucket's midpoint.
func histogramMetric(d *prometheus.Desc, h *hdr.Histogram, created time.Time, labels ...string) (prometheus.Metric, error) {
	classic := make(map[float64]uint64, len(latencyBuckets))
	native := map[int]int64{}
	var count uint64
	var sum float64
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		v := float64(b.From) / 1e6
		count += uint64(b.Count)
		sum += float64(b.Count) * float64(b.From+b.To) / 2e6
		native[nativeBucket(v)] += b.Count
		if i := sort.SearchFloat64s(latencyBuckets, v); i < len(latencyBuckets) {
			classic[latencyBuckets[i]] += uint64(b.Count)
		}
	}
	var cum uint64
	for _, le := range latencyBuckets {
		cum += classic[le]
		classic[le] = cum
	}
	return bothHistograms(d, count, sum, classic, native, created, labels)
}

// bothHistograms makes one metric holding classic and native buckets.
func bothHistograms(d *prometheus.Desc, count uint64, sum float64, classic map[float64]uint64, native map[int]int64, created time.Time, labels []string) (prometheus.Metric, error) {
	cm, err := prometheus.NewConstHistogramWithCreatedTimestamp(d, count, sum, classic, created, labels...)
	if err != nil {
		return nil, err
	}
	nm, err := prometheus.NewConstNativeHistogram(d, count, sum, native, nil, 0, nativeSchema, prometheus.DefNativeHistogramZeroThreshold, created, labels...)
	if err != nil {
		return nil, err
	}
	var cw, nw dto.Metric
	if err := cm.Write(&cw); err != nil {
		return nil, err
	}
	if err := nm.Write(&nw); err != nil {
		return nil, err
	}
	nw.Histogram.Bucket = cw.Histogram.Bucket
	return &constBoth{desc: d, labels: nw.Label, hist: nw.Histogram}, nil
}

// constBoth is a const histogram with classic and native buckets, which
// client_golang has no constructor for.
type constBoth struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	hist   *dto.Histogram
}

// Desc implements prometheus.Metric.
func (m *constBoth) Desc() *prometheus.Desc { return m.desc }

// Write implements prometheus.Metric.
func (m *constBoth) Write(out *dto.Metric) error {
	out.Label, out.Histogram = m.labels, m.hist
	return nil
}

// nativeBounds are the bucket bounds of nativeSchema within one power of
// two, as fractions in [0.5, 1) (see math.Frexp).
var nativeBounds = func() []float64 {
	b := make([]float64, 1<<nativeSchema)
	for j := range b {
		b[j] = math.Exp2(float64(j)/float64(len(b)) - 1)
	}
	return b
}()

// nativeBucket returns the index of the native histogram bucket of
// nativeSchema that holds v > 0: bucket i holds (2^((i-1)/8), 2^(i/8)].
func nativeBucket(v float64) int {
	frac, exp := math.Frexp(v)
	return sort.SearchFloat64s(nativeBounds, frac) + (exp-1)*len(nativeBounds)
}
