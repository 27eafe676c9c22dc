package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
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
}

// ServerInfo describes the database server the run talked to.
type ServerInfo struct {
	Version     string `json:"version,omitempty"`
	CockroachDB bool   `json:"cockroachdb"`
	TLS         string `json:"tls"` // sslmode in force, e.g. "verify-full"
	TLSWeakened bool   `json:"tls_weakened"`
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
		DurationS: r.measureS.Seconds(), Errors: map[string]int64{},
		Events: append([]Event{}, r.events...),
	}
	s.WarmupS = end.Sub(r.start).Seconds() - s.DurationS
	for i, name := range r.ops {
		s.Ops = append(s.Ops, r.opSummary(i, name, s.Errors))
	}
	s.Total = r.totalSummary(s.Ops)
	s.Connections = ConnSummary{
		Opened: r.conns.opened.Load(), Failed: r.conns.failed.Load(), Closed: r.conns.closed.Load(),
	}
	if s.Connections.Opened > 0 {
		s.Connections.AvgConnectMs = float64(r.conns.totalNs.Load()) / float64(s.Connections.Opened) / 1e6
	}
	if len(r.phases) > 0 {
		s.Handshake = map[string]Percentiles{}
		for name, h := range r.phases {
			s.Handshake[name] = PercentilesOf(h)
		}
	}
	s.Rotations = RotationImpacts(s.Events, ticks)
	s.Faults = FaultImpacts(s.Events, ticks)
	s.Retried = r.retriedByClass()
	return s
}

func (r *Registry) opSummary(i int, name string, errs map[string]int64) OpSummary {
	m := &r.measured[i]
	o := OpSummary{
		Op: name, Count: m.ok, Committed: r.all[i].ok, Ambiguous: r.all[i].ambiguous, Errors: m.errors,
		RetriedTxns: m.retriedTxns, Retries: m.retries, RetryFailures: m.byClass[ClassRetryable],
		Outcomes: m.outcomes, Latency: PercentilesOf(r.cumLat[i]),
	}
	if r.measureS > 0 {
		o.OpsPerSec = float64(m.ok) / r.measureS.Seconds()
	}
	for c := ClassRetryable; c < numClasses; c++ {
		if n := m.byClass[c]; n > 0 {
			if o.ErrorsByClass == nil {
				o.ErrorsByClass = map[string]int64{}
			}
			o.ErrorsByClass[c.String()] = n
			errs[c.String()] += n
		}
	}
	if r.openLoop {
		p := PercentilesOf(r.cumSvc[i])
		o.Service = &p
	}
	return o
}

// totalSummary adds up every op: counts summed, latency from the merged
// histograms.
func (r *Registry) totalSummary(ops []OpSummary) OpSummary {
	t := OpSummary{Op: "__result"}
	lat := NewHistogram()
	for i := range ops {
		addOpCounts(&t, &ops[i])
		t.OpsPerSec += ops[i].OpsPerSec
		lat.Merge(r.cumLat[i])
	}
	t.Latency = PercentilesOf(lat)
	return t
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
