package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// SummaryVersion is the format version of summary.json.
const SummaryVersion = 1

// Summary is the content of summary.json: everything a reader needs to know
// about one run, with every secret redacted from its configuration.
type Summary struct {
	Version     int                    `json:"version"`
	Command     string                 `json:"command"` // "run" or "handshake"
	Workload    string                 `json:"workload"`
	AuthMode    string                 `json:"auth_mode"`
	RunID       string                 `json:"run_id"`
	RunIDs      []string               `json:"run_ids,omitempty"` // every merged run's id (authbench merge); empty for one run
	StartedAt   time.Time              `json:"started_at"`
	EndedAt     time.Time              `json:"ended_at"`
	DurationS   float64                `json:"duration_s"` // measured window, warm-up excluded
	WarmupS     float64                `json:"warmup_s"`
	Interrupted bool                   `json:"interrupted"`
	StopReason  string                 `json:"stop_reason,omitempty"`
	Config      map[string]string      `json:"config"`
	AuthConf    map[string]string      `json:"auth_settings,omitempty"` // the auth mode's settings (never a secret); see ReadSummary for old runs
	Server      ServerInfo             `json:"server"`
	Ops         []OpSummary            `json:"ops"`
	Total       OpSummary              `json:"total"` // every op together (the __result row)
	Errors      map[string]int64       `json:"errors_by_class"`
	Connections ConnSummary            `json:"connections"`
	Handshake   map[string]Percentiles `json:"handshake_ms,omitempty"`
	Events      []Event                `json:"events"`
	Rotations   []RotationImpact       `json:"rotations"`
	Faults      []RotationImpact       `json:"faults,omitempty"`                  // one per "errors-began" event (faults.go)
	Retried     map[string]int64       `json:"retried_errors_by_class,omitempty"` // failed attempts that were retried
	Facts       map[string]string      `json:"workload_facts,omitempty"`
	// TxnStyle is the workload's transaction style (app, pipelined,
	// single); empty in runs older than the styles, which were pipelined.
	TxnStyle string `json:"txn_style,omitempty"`
	// RetryProtocol is the driver's retry protocol (full, savepoint).
	RetryProtocol string `json:"retry_protocol,omitempty"`
	// RotationsFailed counts the RotationFailed events: forced rotations
	// that did not happen (the issuer refused, or the new credential never
	// reached the auth mode).
	RotationsFailed int `json:"rotations_failed,omitempty"`
	// Instances is the number of fleet instances, each with its own pool
	// and credentials (0: one application instance, as before fleets).
	Instances int `json:"instances,omitempty"`
}

// Shape names the run's transaction shape, e.g. "app, savepoint retries";
// "" when the run has none (a handshake, an older run).
func (s *Summary) Shape() string {
	switch {
	case s.TxnStyle == "" && s.RetryProtocol == "":
		return ""
	case s.RetryProtocol == "":
		return s.TxnStyle
	}
	style := s.TxnStyle
	if style == "" {
		style = "pipelined"
	}
	return style + ", " + s.RetryProtocol + " retries"
}

// ServerInfo describes the database server the run talked to.
type ServerInfo struct {
	Version     string `json:"version,omitempty"`
	CockroachDB bool   `json:"cockroachdb"`
	TLS         string `json:"tls"` // sslmode in force, e.g. "verify-full"
	TLSWeakened bool   `json:"tls_weakened"`
	// Peer is the identity the server was verified as instead of its host
	// name (a SPIFFE ID), "" when it was verified against the CA and name.
	Peer string `json:"server_peer,omitempty"`
}

// OpSummary holds one op's totals for the measured window.
type OpSummary struct {
	Op            string           `json:"op"`
	Count         int64            `json:"count"`               // successful ops in the measured window
	Committed     int64            `json:"committed"`           // successful ops including warm-up: what the database holds
	Ambiguous     int64            `json:"ambiguous,omitempty"` // failed after a COMMIT of unknown outcome, warm-up included: the database may hold them too
	OpsPerSec     float64          `json:"ops_per_sec"`
	Errors        int64            `json:"errors"`
	ErrorsByClass map[string]int64 `json:"errors_by_class,omitempty"`
	RetriedTxns   int64            `json:"retried_transactions"`
	Retries       int64            `json:"retries"`
	RetryFailures int64            `json:"failed_after_max_retries"`
	Outcomes      map[string]int64 `json:"outcomes,omitempty"`
	Latency       Percentiles      `json:"latency_ms"`
	Service       *Percentiles     `json:"service_ms,omitempty"`
}

// ConnSummary is the pgbench-style connection accounting.
type ConnSummary struct {
	Opened       int64   `json:"opened"`
	Failed       int64   `json:"failed"`
	Closed       int64   `json:"closed"`
	AvgConnectMs float64 `json:"avg_connect_ms"`
}

// Summary builds the run's summary. The caller fills in Command, Workload,
// AuthMode, RunID, Config, Server, Facts and the stop fields.
func (r *Registry) Summary(end time.Time, ticks []TickPoint) *Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &Summary{
		Version: SummaryVersion, StartedAt: r.start, EndedAt: end,
		DurationS: r.measureS.Seconds(), Events: append([]Event{}, r.events...),
	}
	s.WarmupS = end.Sub(r.start).Seconds() - s.DurationS
	stats := make([]opStats, len(r.ops))
	for i := range r.ops {
		stats[i] = r.opStats(i)
	}
	s.setOps(stats)
	s.Connections = ConnSummary{
		Opened: r.conns.opened.Load(), Failed: r.conns.failed.Load(), Closed: r.conns.closed.Load(),
	}
	if s.Connections.Opened > 0 {
		s.Connections.AvgConnectMs = float64(r.conns.totalNs.Load()) / float64(s.Connections.Opened) / 1e6
	}
	s.Handshake = handshakeSummary(r.phases)
	s.Rotations = RotationImpacts(s.Events, ticks)
	s.RotationsFailed = countKind(s.Events, RotationFailed)
	s.Instances = r.instances
	shareRotated(s.Rotations, s.Instances)
	s.Faults = FaultImpacts(s.Events, ticks)
	s.Retried = r.retriedByClass()
	return s
}

// opStats is what one op's summary is built from, by a live run and by a
// merge alike: its counts (an OpSummary without rate or percentiles), the
// histograms of its measured window and its successful ops per second.
type opStats struct {
	counts OpSummary
	lat    *hdr.Histogram
	svc    *hdr.Histogram // service time; nil in a closed loop
	rate   float64
}

// opStats returns op i's counts and histograms of the measured window.
func (r *Registry) opStats(i int) opStats {
	m := &r.measured[i]
	st := opStats{counts: OpSummary{
		Op: r.ops[i], Count: m.ok, Committed: r.all[i].ok, Ambiguous: r.all[i].ambiguous, Errors: m.errors,
		RetriedTxns: m.retriedTxns, Retries: m.retries, RetryFailures: m.byClass[ClassRetryable],
		Outcomes: addCounts(nil, m.outcomes),
	}, lat: r.cumLat[i]}
	for c := ClassRetryable; c < numClasses; c++ {
		if n := m.byClass[c]; n > 0 {
			st.counts.ErrorsByClass = addCounts(st.counts.ErrorsByClass, map[string]int64{c.String(): n})
		}
	}
	if r.measureS > 0 {
		st.rate = float64(m.ok) / r.measureS.Seconds()
	}
	if r.openLoop {
		st.svc = r.cumSvc[i]
	}
	return st
}

// setOps is the one summary builder: it sets s.Ops from each op's counts,
// rate and the percentiles of its histograms; s.Total (the __result row)
// from the counts and rates summed and the percentiles of every op's
// histograms added; and s.Errors from the ops' errors by class. Service
// times are summarised when every op has them (an open loop).
func (s *Summary) setOps(stats []opStats) {
	s.Ops, s.Errors = make([]OpSummary, 0, len(stats)), map[string]int64{}
	total := OpSummary{Op: "__result"}
	lat, svc := NewHistogram(), NewHistogram()
	allSvc := len(stats) > 0
	for _, st := range stats {
		o := st.counts
		o.OpsPerSec, o.Latency = st.rate, PercentilesOf(st.lat)
		lat.Merge(st.lat) // same bounds: drops nothing
		if st.svc != nil {
			p := PercentilesOf(st.svc)
			o.Service = &p
			svc.Merge(st.svc)
		}
		allSvc = allSvc && st.svc != nil
		s.Errors = addCounts(s.Errors, o.ErrorsByClass)
		addOpCounts(&total, &o)
		total.OpsPerSec += o.OpsPerSec
		s.Ops = append(s.Ops, o)
	}
	total.Latency = PercentilesOf(lat)
	if allSvc {
		p := PercentilesOf(svc)
		total.Service = &p
	}
	s.Total = total
}

// handshakeSummary summarises each handshake phase; nil when there is none.
func handshakeSummary(phases map[string]*hdr.Histogram) map[string]Percentiles {
	if len(phases) == 0 {
		return nil
	}
	out := make(map[string]Percentiles, len(phases))
	for name, h := range phases {
		out[name] = PercentilesOf(h)
	}
	return out
}

// addOpCounts adds src's counts (not its rate or percentiles) to dst.
func addOpCounts(dst, src *OpSummary) {
	dst.Count += src.Count
	dst.Committed += src.Committed
	dst.Ambiguous += src.Ambiguous
	dst.Errors += src.Errors
	dst.RetriedTxns += src.RetriedTxns
	dst.Retries += src.Retries
	dst.RetryFailures += src.RetryFailures
	dst.ErrorsByClass = addCounts(dst.ErrorsByClass, src.ErrorsByClass)
	dst.Outcomes = addCounts(dst.Outcomes, src.Outcomes)
}

// addCounts adds src into dst, allocating dst when src has something.
func addCounts(dst, src map[string]int64) map[string]int64 {
	for k, v := range src {
		if dst == nil {
			dst = map[string]int64{}
		}
		dst[k] += v
	}
	return dst
}

// PhaseOrder returns the phase names of m in their natural order.
func PhaseOrder[V any](m map[string]V) []string {
	rank := map[string]int{}
	for i, n := range PhaseNames {
		rank[n] = i + 1
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Slice(names, func(a, b int) bool {
		ra, rb := rank[names[a]], rank[names[b]]
		if ra == 0 {
			ra = len(PhaseNames) + 1
		}
		if rb == 0 {
			rb = len(PhaseNames) + 1
		}
		if ra != rb {
			return ra < rb
		}
		return names[a] < names[b]
	})
	return names
}

// Op returns the summary of the named op, or nil.
func (s *Summary) Op(name string) *OpSummary {
	for i := range s.Ops {
		if s.Ops[i].Op == name {
			return &s.Ops[i]
		}
	}
	return nil
}

// WriteJSON writes the summary to dir/summary.json.
func (s *Summary) WriteJSON(dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, SummaryFile), append(b, '\n'), 0o644)
}

// ReadSummary reads dir/summary.json (or the file itself when path is one).
func ReadSummary(path string) (*Summary, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, SummaryFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read run summary: %w (is it a run directory written by `authbench run`?)", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s is not a valid summary.json: %v%s", path, err, DamagedHint)
	}
	if s.Version != SummaryVersion || s.Workload == "" {
		return nil, fmt.Errorf("%s is not an authbench summary (version %d, workload %q)%s", path, s.Version, s.Workload, DamagedHint)
	}
	if old, ok := s.Config["auth_settings"]; ok && s.AuthConf == nil {
		s.AuthConf = parseGoMap(old) // written before auth_settings was an object
		delete(s.Config, "auth_settings")
	}
	return &s, nil
}

// parseGoMap reads the auth settings older runs wrote as a Go map printed
// with fmt ("map[key:value key2:value two]"): a word that starts with a
// lower-case key and a colon begins a new entry; other words continue the
// value before them.
func parseGoMap(s string) map[string]string {
	out := map[string]string{}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "map["), "]")
	last := ""
	for _, word := range strings.Split(s, " ") {
		if k, v, ok := strings.Cut(word, ":"); ok && isSettingKey(k) {
			out[k], last = v, k
		} else if last != "" {
			out[last] += " " + word
		}
	}
	return out
}

func isSettingKey(k string) bool {
	return k != "" && strings.Trim(k, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}
