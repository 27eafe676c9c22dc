package runner

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authbench/authbench/capacity"
	"github.com/authbench/authbench/results"
)

// Metrics exports the search on /metrics: the step being run, its offered
// rate and the objective, and the running step's own metrics (the same as
// `authbench run` exports).
type Metrics struct {
	workload string
	offered  *prometheus.GaugeVec
	step     *prometheus.GaugeVec
	steps    stepCollector
}

// NewMetrics registers the search's metrics on reg: the objective's
// thresholds as constant gauges, the current step's offered rate and
// number, and the current step's run metrics.
func NewMetrics(reg prometheus.Registerer, workload, unit string, o capacity.Objective) (*Metrics, error) {
	labels := prometheus.Labels{"workload": workload, "unit": unit}
	m := &Metrics{
		workload: workload,
		offered: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "authbench_capacity_offered_rate", Help: "Open-loop rate offered by the capacity step now running, per second (0 during the closed-loop probe).",
			ConstLabels: labels,
		}, []string{"auth_mode"}),
		step: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "authbench_capacity_step", Help: "Number of the capacity step now running (0 = the closed-loop probe).",
			ConstLabels: labels,
		}, []string{"auth_mode"}),
	}
	latency := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "authbench_capacity_objective_latency_seconds", Help: "Latency bound of the capacity objective, per statistic.",
		ConstLabels: labels,
	}, []string{"statistic"})
	for _, b := range o.Latency {
		latency.WithLabelValues(string(b.Quantile)).Set(b.Limit.Seconds())
	}
	errs := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "authbench_capacity_objective_errors", Help: "Error budget of the capacity objective: a ratio of transactions or a count per step.",
		ConstLabels: labels,
	}, []string{"kind"})
	if o.ErrorRatio > 0 {
		errs.WithLabelValues("ratio").Set(o.ErrorRatio)
	}
	if o.MaxErrors > 0 {
		errs.WithLabelValues("count").Set(float64(o.MaxErrors))
	}
	for _, c := range []prometheus.Collector{m.offered, m.step, latency, errs, &m.steps} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// startStep points the metrics at a new step; nil Metrics do nothing.
func (m *Metrics) startStep(reg *results.Registry, mode string, idx int, rate float64, workers int) {
	if m == nil {
		return
	}
	m.offered.Reset()
	m.step.Reset()
	m.offered.WithLabelValues(mode).Set(rate)
	m.step.WithLabelValues(mode).Set(float64(idx))
	m.steps.set(results.NewCollector(reg, results.CollectorOpts{Workload: m.workload, AuthMode: mode, Workers: workers, TargetRate: rate}))
}

// stepCollector hands a scrape to the running step's collector. It
// describes nothing (an unchecked collector): its metrics' labels change
// with the step.
type stepCollector struct {
	mu  sync.Mutex
	cur prometheus.Collector
}

func (s *stepCollector) set(c prometheus.Collector) {
	s.mu.Lock()
	s.cur = c
	s.mu.Unlock()
}

// Describe sends nothing: the collector is unchecked.
func (s *stepCollector) Describe(chan<- *prometheus.Desc) {}

// Collect collects the running step's metrics.
func (s *stepCollector) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	cur := s.cur
	s.mu.Unlock()
	if cur != nil {
		cur.Collect(ch)
	}
}
