package results

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// promRun is a registry with a bit of everything: ops in warm-up and after
// it, errors, retries, an outcome, handshakes and events.
func promRun(t *testing.T, openLoop bool) (*Registry, *Collector) {
	t.Helper()
	start := time.Unix(1000, 0)
	reg := NewRegistry([]string{"transfer", "audit"}, openLoop, start)
	w := reg.NewRecorder()
	w.Record(0, 150*time.Microsecond, 100*time.Microsecond, 0, ClassNone)
	w.Record(0, 3*time.Millisecond, time.Millisecond, 2, ClassNone)
	reg.Tick(start.Add(time.Second), true) // warm-up still counts on /metrics
	w.Record(0, 90*time.Second, 90*time.Second, 0, ClassNone)
	w.Record(0, time.Millisecond, time.Millisecond, 4, ClassRetryable)
	w.Record(1, 2*time.Millisecond, 2*time.Millisecond, 0, ClassConnection)
	w.Ambiguous(1)
	w.Outcome(0, "insufficient_funds", 1)
	reg.Tick(start.Add(2*time.Second), false)
	reg.ConnOpened(5 * time.Millisecond)
	reg.ConnClosed()
	reg.ConnFailed()
	for _, p := range PhaseNames {
		reg.Phase(p, time.Millisecond)
	}
	reg.Event("login", "vault", "lease 1", false)
	reg.Event("rotation", "vault", "lease 2", true)
	c := NewCollector(reg, CollectorOpts{Workload: "bank", AuthMode: "cert", Workers: 8, TargetRate: 250})
	return reg, c
}

func TestCollectorLintsClean(t *testing.T) {
	for _, open := range []bool{false, true} {
		_, c := promRun(t, open)
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("open loop %v: lint: %s: %s", open, p.Metric, p.Text)
		}
	}
}

// gather registers c with a fresh registry and returns its families by name.
func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// find returns the metric of family name whose labels include want.
func find(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	for _, m := range mfs[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && got[k] == v
		}
		if ok {
			return m
		}
	}
	t.Fatalf("no %s with labels %v", name, want)
	return nil
}

func TestCollectorLatencyHistogram(t *testing.T) {
	_, c := promRun(t, false)
	mfs := gather(t, c)
	h := find(t, mfs, "authbench_op_latency_seconds", map[string]string{"op": "transfer", "workload": "bank", "auth_mode": "cert"}).GetHistogram()
	if h.GetSampleCount() != 3 {
		t.Fatalf("count %d, want the 3 successful transfers (warm-up included)", h.GetSampleCount())
	}
	want := map[float64]uint64{.0001: 0, .0002: 1, .002: 1, .005: 2, 60: 2} // 90 s only in +Inf
	for _, b := range h.GetBucket() {
		if w, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != w {
			t.Errorf("bucket le=%g: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
	if len(h.GetBucket()) != len(latencyBuckets) {
		t.Errorf("%d classic buckets, want %d", len(h.GetBucket()), len(latencyBuckets))
	}
	if sum := h.GetSampleSum(); math.Abs(sum-90.00315) > 0.1 {
		t.Errorf("sum %g s, want about 90.003", sum)
	}
	assertNative(t, h)
}

// assertNative checks the native buckets add up to the count.
func assertNative(t *testing.T, h *dto.Histogram) {
	t.Helper()
	if h.GetSchema() != nativeSchema || len(h.GetPositiveSpan()) == 0 {
		t.Fatalf("no native buckets: schema %d, spans %v", h.GetSchema(), h.GetPositiveSpan())
	}
	var total, cur int64
	for _, d := range h.GetPositiveDelta() {
		cur += d
		total += cur
	}
	if uint64(total)+h.GetZeroCount() != h.GetSampleCount() {
		t.Errorf("native buckets hold %d, count is %d", total, h.GetSampleCount())
	}
}

func TestCollectorCounters(t *testing.T) {
	_, c := promRun(t, false)
	mfs := gather(t, c)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"authbench_ops_total", map[string]string{"op": "transfer"}, 3},
		{"authbench_retries_total", map[string]string{"op": "transfer"}, 7},
		{"authbench_retried_transactions_total", map[string]string{"op": "transfer"}, 3},
		{"authbench_ambiguous_commits_total", map[string]string{"op": "transfer"}, 0},
		{"authbench_ambiguous_commits_total", map[string]string{"op": "audit"}, 1},
		{"authbench_errors_total", map[string]string{"op": "transfer", "class": "retryable"}, 1},
		{"authbench_errors_total", map[string]string{"op": "transfer", "class": "auth"}, 0},
		{"authbench_errors_total", map[string]string{"op": "audit", "class": "connection"}, 1},
		{"authbench_outcomes_total", map[string]string{"op": "transfer", "outcome": "insufficient_funds"}, 1},
		{"authbench_connections_opened_total", nil, 1},
		{"authbench_connections_failed_total", nil, 1},
		{"authbench_connections_closed_total", nil, 1},
		{"authbench_events_total", map[string]string{"kind": "login", "source": "vault"}, 1},
		{"authbench_rotations_total", map[string]string{"kind": "rotation", "source": "vault"}, 1},
		{"authbench_rotations_total", map[string]string{"kind": "rotation", "source": "cert"}, 0},
		{"authbench_events_total", map[string]string{"kind": "rotation", "source": "cert"}, 0},
	}
	for _, ck := range checks {
		if got := find(t, mfs, ck.name, ck.labels).GetCounter().GetValue(); got != ck.want {
			t.Errorf("%s%v = %g, want %g", ck.name, ck.labels, got, ck.want)
		}
	}
	if got := find(t, mfs, "authbench_connections_open", nil).GetGauge().GetValue(); got != 0 {
		t.Errorf("authbench_connections_open = %g, want 0 (one opened, one closed)", got)
	}
	if n := len(mfs["authbench_errors_total"].GetMetric()); n != 2*int(numClasses-1) {
		t.Errorf("%d error series, want every class of every op", n)
	}
	if n := len(mfs["authbench_handshake_phase_seconds"].GetMetric()); n != len(PhaseNames) {
		t.Errorf("%d handshake phase series, want %d", n, len(PhaseNames))
	}
}

// TestCollectorFaults wants fault events and retried failures by class on
// /metrics, warm-up included, every class at 0 until it happens.
func TestCollectorFaults(t *testing.T) {
	start := time.Unix(1000, 0)
	reg := NewRegistry([]string{"transfer"}, false, start)
	c := NewCollector(reg, CollectorOpts{Workload: "bank", AuthMode: "cert"})
	counter := func(name string, labels map[string]string) float64 {
		t.Helper()
		return find(t, gather(t, c), name, labels).GetCounter().GetValue()
	}
	if n := len(gather(t, c)["authbench_retried_errors_total"].GetMetric()); n != int(numClasses-ClassConnection) ||
		counter("authbench_fault_events_total", nil) != 0 {
		t.Fatalf("before any error: %d retried-error series (want every class but retryable) and fault events %g (want 0)",
			n, counter("authbench_fault_events_total", nil))
	}
	w := reg.NewRecorder()
	tick := 0
	next := func(warmup bool) {
		tick++
		reg.Tick(start.Add(time.Duration(tick)*time.Second), warmup)
	}
	for range faultQuietTicks {
		w.Record(0, time.Millisecond, time.Millisecond, 0, ClassNone)
		next(true)
	}
	reg.AttemptFailed(ClassConnection) // a fault in warm-up, hidden by a retry
	reg.AttemptFailed(ClassConnection)
	next(true)
	for range faultQuietTicks {
		next(false)
	}
	w.Record(0, time.Millisecond, time.Millisecond, 0, ClassTimeout) // a second fault, failed
	reg.AttemptFailed(ClassAuth)
	next(false)
	for _, ck := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"authbench_fault_events_total", nil, 2},
		{"authbench_retried_errors_total", map[string]string{"class": "connection"}, 2},
		{"authbench_retried_errors_total", map[string]string{"class": "auth"}, 1},
		{"authbench_retried_errors_total", map[string]string{"class": "timeout"}, 0},
		{"authbench_errors_total", map[string]string{"class": "timeout"}, 1},
	} {
		if got := counter(ck.name, ck.labels); got != ck.want {
			t.Errorf("%s%v = %g, want %g", ck.name, ck.labels, got, ck.want)
		}
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
}

func TestCollectorGauges(t *testing.T) {
	_, c := promRun(t, false)
	want := `
# HELP authbench_target_rate Open-loop target in ops per second (0 = closed loop).
# TYPE authbench_target_rate gauge
authbench_target_rate{auth_mode="cert",workload="bank"} 250
# HELP authbench_workers Workers running (--concurrency).
# TYPE authbench_workers gauge
authbench_workers{auth_mode="cert",workload="bank"} 8
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "authbench_workers", "authbench_target_rate"); err != nil {
		t.Error(err)
	}
}

func TestCollectorServiceTime(t *testing.T) {
	for _, open := range []bool{false, true} {
		_, c := promRun(t, open)
		mfs := gather(t, c)
		labels := map[string]string{"op": "transfer"}
		lat := find(t, mfs, "authbench_op_latency_seconds", labels).GetHistogram()
		svc := find(t, mfs, "authbench_op_service_time_seconds", labels).GetHistogram()
		same := lat.GetSampleSum() == svc.GetSampleSum()
		if svc.GetSampleCount() != 3 || same == open {
			t.Errorf("open loop %v: service count %d, same sum as latency %v", open, svc.GetSampleCount(), same)
		}
	}
}

func TestNativeBucket(t *testing.T) {
	for _, v := range []float64{1e-6, 1.5e-4, 0.003, 0.5, 1, 1.05, 2, 59.9, 120} {
		i := nativeBucket(v)
		lo, hi := math.Exp2(float64(i-1)/8), math.Exp2(float64(i)/8)
		if !(v > lo*(1+1e-12) && v <= hi*(1+1e-12)) {
			t.Errorf("nativeBucket(%g) = %d: (%g, %g]", v, i, lo, hi)
		}
	}
	for v, want := range map[float64]int{1: 0, 2: 8, 0.5: -8, 4: 16} {
		if got := nativeBucket(v); got != want {
			t.Errorf("nativeBucket(%g) = %d, want %d", v, got, want)
		}
	}
}

// TestCollectorWhileRecording scrapes while workers record and the driver
// ticks; run with -race.
func TestCollectorWhileRecording(t *testing.T) {
	start := time.Now()
	reg := NewRegistry([]string{"op"}, true, start)
	c := NewCollector(reg, CollectorOpts{Workload: "w", AuthMode: "password"})
	preg := prometheus.NewRegistry()
	preg.MustRegister(c)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		w := reg.NewRecorder()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				w.Record(0, time.Duration(i%5000)*time.Microsecond, time.Microsecond, i%3, Class(i%int(numClasses)))
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
				reg.Tick(start.Add(time.Duration(i)*time.Millisecond), false)
				reg.Event("rotation", "password", "", true)
				time.Sleep(time.Millisecond)
			}
		}
	}()
	for range 20 {
		if _, err := preg.Gather(); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}
