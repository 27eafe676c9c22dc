package runner

import (
	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/authbench/authbench/capacity"
	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
)

// lostReason is the StopReason of a step that a watcher ended early.
const lostReason = "lost"

// handshakePhase is the phase whose latency the objective applies to with
// a connection per transaction.
const handshakePhase = "total"

// watcher follows a step's ticks: it keeps the measured seconds for the
// early-stop rule and, with a connection per transaction, the handshake
// histogram and connection count at the end of the warm-up, so that the
// measured window's handshakes can be told from the warm-up's.
type watcher struct {
	obj    capacity.Objective
	win    capacity.Window
	perTxn bool
	reg    *results.Registry

	secs           []capacity.Second
	warmHS, lastHS *hdr.Histogram
	warmConns      int64
	why            string // the early-stop rule that ended the step
}

func newWatcher(o capacity.Objective, w capacity.Window, perTxn bool, reg *results.Registry) *watcher {
	wt := &watcher{obj: o, win: w, perTxn: perTxn, reg: reg}
	if perTxn {
		wt.warmHS = reg.PhaseHistogram(handshakePhase)
		wt.lastHS = wt.warmHS
	}
	return wt
}

// tick is driver.Run's Watch.
func (w *watcher) tick(t *results.Tick) string {
	var hs *hdr.Histogram
	if w.perTxn {
		hs = w.reg.PhaseHistogram(handshakePhase)
	}
	if t.Warmup {
		w.warmHS, w.lastHS, w.warmConns = hs, hs, t.ConnsOpened
		return ""
	}
	sec := capacity.Second{}
	for _, op := range t.Ops {
		sec.Count += op.Count
		sec.Errors += op.Errors
	}
	p := t.Latency()
	if w.perTxn {
		p = results.PercentilesOf(results.HistogramSince(hs, w.lastHS))
		w.lastHS = hs
	}
	sec.Latency = latency(p)
	w.secs = append(w.secs, sec)
	if w.win.Offered == 0 || w.why != "" { // the probe is never judged lost
		return ""
	}
	if w.why = capacity.IsLost(w.obj, w.win, w.secs); w.why != "" {
		return lostReason
	}
	return ""
}

// measurement is what the step measured in its window, from its summary
// and, with a connection per transaction, the handshakes of the window.
func (w *watcher) measurement(s *results.Summary, cfg driver.Config) capacity.Measurement {
	t := s.Total
	done := t.Count
	for _, n := range t.Outcomes {
		done += n
	}
	m := capacity.Measurement{
		Offered: cfg.MaxRate, Latency: latency(t.Latency), Service: latency(t.Latency),
		Errors: t.Errors, Total: done + t.Errors, Workers: cfg.Concurrency, MeanServiceMs: t.Latency.Mean,
		Early: w.why,
	}
	if t.Service != nil {
		m.Service, m.MeanServiceMs = latency(*t.Service), t.Service.Mean
	}
	if s.DurationS > 0 {
		m.Achieved = float64(done) / s.DurationS
	}
	if w.perTxn {
		hs := results.PercentilesOf(results.HistogramSince(w.reg.PhaseHistogram(handshakePhase), w.warmHS))
		m.Latency, m.Service = latency(hs), latency(hs)
		m.MeanServiceMs += hs.Mean
		if s.DurationS > 0 {
			m.Achieved = float64(s.Connections.Opened-w.warmConns) / s.DurationS
		}
	}
	return m
}

func latency(p results.Percentiles) capacity.Latency {
	return capacity.Latency{P50: p.P50, P95: p.P95, P99: p.P99, P999: p.P999, Max: p.Max}
}
