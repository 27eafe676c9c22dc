package results

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Merged is several runs combined into one: the content of the run
// directory that Write produces.
type Merged struct {
	Summary   *Summary
	Ticks     []Tick
	Intervals map[string][]*hdr.Histogram // per op, one per measured tick of Ticks
	Service   map[string][]*hdr.Histogram // likewise, service times; nil when not every run logged them
	Handshake map[string]*hdr.Histogram   // nil when the phases could not be merged exactly
	// Warnings says, one line each, what could not be merged exactly.
	Warnings []string
}

// MergeDirs reads the run directories and merges them.
func MergeDirs(dirs []string) (*Merged, error) {
	runs := make([]*RunData, 0, len(dirs))
	for _, d := range dirs {
		rd, err := ReadRun(d)
		if err != nil {
			return nil, err
		}
		runs = append(runs, rd)
	}
	return Merge(runs)
}

// Merge combines runs of one workload, made by several driver processes at
// the same time, into one: latency (and, in an open loop, service-time)
// histograms added exactly, counts summed,
// ticks aligned on wall-clock seconds, events concatenated in time order and
// rotations recomputed over the combined throughput.
//
// A tick belongs to the wall-clock second that holds the middle of its
// interval; a merged tick is a warm-up tick only when every tick in it is.
// Ops per second are taken over the window in which every run was measuring
// (the union of their windows when they do not overlap).
func Merge(runs []*RunData) (*Merged, error) {
	if err := checkMergeable(runs); err != nil {
		return nil, err
	}
	ops := opNames(runs)
	start := runs[0].Summary.StartedAt
	for _, r := range runs[1:] {
		if r.Summary.StartedAt.Before(start) {
			start = r.Summary.StartedAt
		}
	}
	m := &Merged{Intervals: map[string][]*hdr.Histogram{}}
	withSvc := m.serviceMergeable(runs)
	if withSvc {
		m.Service = map[string][]*hdr.Histogram{}
	}
	if err := m.mergeTicks(runs, ops, start, withSvc); err != nil {
		return nil, err
	}
	s, err := m.mergeSummary(runs, ops, start)
	if err != nil {
		return nil, err
	}
	m.Summary = s
	return m, nil
}

func checkMergeable(runs []*RunData) error {
	if len(runs) == 0 {
		return errors.New("nothing to merge: pass at least one run directory")
	}
	first := runs[0]
	for _, r := range runs {
		if err := checkIntervals(r); err != nil {
			return err
		}
	}
	for _, r := range runs[1:] {
		if r.Summary.Workload != first.Summary.Workload {
			return fmt.Errorf("cannot merge runs of different workloads: %s is %s, %s is %s (merge the runs of one workload at a time)",
				first.Dir, first.Summary.Workload, r.Dir, r.Summary.Workload)
		}
		if r.Summary.Shape() != first.Summary.Shape() {
			return fmt.Errorf("cannot merge runs of different transaction shapes: %s is %q, %s is %q (merge the runs of one shape at a time)",
				first.Dir, first.Summary.Shape(), r.Dir, r.Summary.Shape())
		}
		if r.Summary.Command != first.Summary.Command {
			return fmt.Errorf("cannot merge a %q run with a %q run (%s, %s): merge runs of one command at a time",
				first.Summary.Command, r.Summary.Command, first.Dir, r.Dir)
		}
	}
	return nil
}

func opNames(runs []*RunData) []string {
	var ops []string
	seen := map[string]bool{}
	for _, r := range runs {
		for _, o := range r.Summary.Ops {
			if !seen[o.Op] {
				seen[o.Op] = true
				ops = append(ops, o.Op)
			}
		}
	}
	return ops
}

// contribution is one run's tick that falls into a wall-clock second, with

func (m *Merged) mergeSummary(runs []*RunData, ops []string, start time.Time) (*Summary, error) {
	first := runs[0].Summary
	s := &Summary{
		Version: SummaryVersion, Command: first.Command, Workload: first.Workload,
		StartedAt: start, Server: first.Server,
		Config: mergeStringMaps(runs, func(s *Summary) map[string]string { return s.Config }),
		Facts:  mergeStringMaps(runs, func(s *Summary) map[string]string { return s.Facts }),
	}
	s.Config["merged_from"] = strings.Join(runDirNames(runs), ", ")
	s.AuthConf = mergeStringMaps(runs, func(s *Summary) map[string]string { return s.AuthConf })
	var auths, reasons []string
	for _, r := range runs {
		rs := r.Summary
		if rs.EndedAt.After(s.EndedAt) {
			s.EndedAt = rs.EndedAt
		}
		auths, reasons = appendUnique(auths, rs.AuthMode), appendUnique(reasons, rs.StopReason)
		s.Interrupted = s.Interrupted || rs.Interrupted
		s.Server.TLSWeakened = s.Server.TLSWeakened || rs.Server.TLSWeakened
		s.RunIDs = append(s.RunIDs, runIDsOf(rs)...)
		addConns(&s.Connections, rs.Connections)
		s.Retried = addCounts(s.Retried, rs.Retried)
	}
	s.AuthMode, s.StopReason = strings.Join(auths, "+"), strings.Join(reasons, "+")
	s.TxnStyle, s.RetryProtocol = first.TxnStyle, first.RetryProtocol
	s.RunID = derivedRunID(s.RunIDs)
	window, rates := m.window(runs)
	s.DurationS = window
	s.WarmupS = math.Max(0, s.EndedAt.Sub(s.StartedAt).Seconds()-window)
	if err := m.mergeOps(s, runs, ops, rates); err != nil {
		return nil, err
	}
	if err := m.mergeHandshake(s, runs); err != nil {
		return nil, err
	}
	s.Events = mergeEvents(runs, start)
	s.Rotations = RotationImpacts(s.Events, m.Points())
	s.RotationsFailed = countKind(s.Events, RotationFailed)
	s.Faults = FaultImpacts(s.Events, m.Points())
	return s, nil
}

func runDirNames(runs []*RunData) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.Dir
	}
	return out
}

func runIDsOf(s *Summary) []string {
	if len(s.RunIDs) > 0 {
		return s.RunIDs
	}
	return []string{s.RunID}
}

// derivedRunID names a merged run: a hash of its runs' ids, in the same
// form as a run's own id.
func derivedRunID(ids []string) string {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	sum := sha256.Sum256([]byte(strings.Join(sorted, ",")))
	return hex.EncodeToString(sum[:16])
}

func addConns(dst *ConnSummary, c ConnSummary) {
	total := dst.AvgConnectMs*float64(dst.Opened) + c.AvgConnectMs*float64(c.Opened)
	dst.Opened += c.Opened
	dst.Failed += c.Failed
	dst.Closed += c.Closed
	if dst.Opened > 0 {
		dst.AvgConnectMs = total / float64(dst.Opened)
	}
}

func appendUnique(xs []string, x string) []string {
	if x == "" {
		return xs
	}
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// mergeStringMaps keeps every key; values that differ between runs are
// listed, separated by " | ".
func mergeStringMaps(runs []*RunData, get func(*Summary) map[string]string) map[string]string {
	vals := map[string][]string{}
	for _, r := range runs {
		for k, v := range get(r.Summary) {
			vals[k] = appendUnique(vals[k], v)
		}
	}
	out := make(map[string]string, len(vals))
	for k, vs := range vals {
		out[k] = strings.Join(vs, " | ")
	}
	return out
}

// mergeOps sums every op's counts and recomputes its latency from all its
// interval histograms; Total adds every op together.

// mergeOps sums every op's counts and adds up its interval histograms, for
// the summary builder to take percentiles of.
func (m *Merged) mergeOps(s *Summary, runs []*RunData, ops []string, counts map[string]float64) error {
	stats := make([]opStats, 0, len(ops))
	for _, op := range ops {
		st := opStats{counts: OpSummary{Op: op}, lat: NewHistogram()}
		if m.Service != nil {
			st.svc = NewHistogram()
		}
		for _, r := range runs {
			if src := r.Summary.Op(op); src != nil {
				addOpCounts(&st.counts, src)
			}
			if err := addIntervals(st.lat, r.Intervals[op], filepath.Join(r.Dir, op+HlogSuffix)); err != nil {
				return err
			}
			if st.svc != nil {
				if err := addIntervals(st.svc, r.Service[op], filepath.Join(r.Dir, ServiceFile)); err != nil {
					return err
				}
			}
		}
		if s.DurationS > 0 {
			st.rate = counts[op] / s.DurationS
		}
		stats = append(stats, st)
	}
	s.setOps(stats)
	return nil
}

func addIntervals(dst *hdr.Histogram, hs []*hdr.Histogram, path string) error {
	for _, h := range hs {
		if err := addHistogram(dst, h, path); err != nil {
			return err
		}
	}
	return nil
}

// serviceMergeable tells whether every run logged its service times, so
// that the merge can add them exactly; when only some did, or a run in an
// open loop predates service.hlog, it says so in a warning.
func (m *Merged) serviceMergeable(runs []*RunData) bool {
	var open, closed []string
	for _, r := range runs {
		switch {
		case r.Service != nil:
			open = append(open, r.Dir)
		case hasService(r.Summary):
			m.Warnings = append(m.Warnings, fmt.Sprintf("%s has no %s (runs write it from this version on), so the merged summary leaves service times out", r.Dir, ServiceFile))
			return false
		default:
			closed = append(closed, r.Dir)
		}
	}
	if len(open) > 0 && len(closed) > 0 {
		m.Warnings = append(m.Warnings, fmt.Sprintf("%s ran in an open loop and %s in a closed one, so the merged summary leaves service times out", open[0], closed[0]))
		return false
	}
	return len(open) > 0
}

func hasService(s *Summary) bool {
	for _, o := range s.Ops {
		if o.Service != nil {
			return true
		}
	}
	return false
}

// mergeHandshake adds up every run's handshake.hlog. When a run recorded
// phases but has no handshake.hlog the phases cannot be added exactly and
// are left out, with a warning.
func (m *Merged) mergeHandshake(s *Summary, runs []*RunData) error {
	phases := map[string]*hdr.Histogram{}
	for _, r := range runs {
		if r.Handshake == nil {
			if len(r.Summary.Handshake) > 0 {
				m.Warnings = append(m.Warnings, fmt.Sprintf("%s has no %s (runs write it from this version on), so the merged summary leaves the handshake phases out", r.Dir, HandshakeFile))
				return nil
			}
			continue
		}
		for name, h := range r.Handshake {
			if phases[name] == nil {
				phases[name] = NewHistogram()
			}
			if err := addHistogram(phases[name], h, filepath.Join(r.Dir, HandshakeFile)); err != nil {
				return err
			}
		}
	}
	m.Handshake = phases
	s.Handshake = handshakeSummary(phases)
	return nil
}

func mergeEvents(runs []*RunData, start time.Time) []Event {
	out := []Event{}
	for _, r := range runs {
		out = append(out, r.Summary.Events...)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Time.Before(out[b].Time) })
	for i := range out {
		out[i].Elapsed = out[i].Time.Sub(start).Seconds()
	}
	return out
}
