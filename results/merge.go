package results

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// RunData is one run directory read whole: what `authbench merge` needs.
type RunData struct {
	Dir     string
	Summary *Summary
	Ticks   []Tick
	// Intervals holds, per op, one latency histogram per measured
	// (non-warm-up) tick of Ticks, in order: RunFiles writes exactly one
	// interval per op for each of them.
	Intervals map[string][]*hdr.Histogram
	// Handshake holds one histogram per phase from handshake.hlog; nil when
	// the directory has none (runs written before it existed).
	Handshake map[string]*hdr.Histogram
}

// Merged is several runs combined into one: the content of the run
// directory that Write produces.
type Merged struct {
	Summary   *Summary
	Ticks     []Tick
	Intervals map[string][]*hdr.Histogram // per op, one per measured tick of Ticks
	Handshake map[string]*hdr.Histogram   // nil when the phases could not be merged exactly
	// Warnings says, one line each, what could not be merged exactly.
	Warnings []string
}

// RunDirs expands paths into run directories. A directory holding
// summary.json is a run; one without it stands for its subdirectories that
// hold one (a matrix directory, or the runs of several drivers collected in
// one place), in name order.
func RunDirs(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if filepath.Base(p) == SummaryFile {
			p = filepath.Dir(p)
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read run directory %s: %v (pass directories written by authbench run, merge or matrix)", p, unwrapPath(err))
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s is a file, not a run directory: pass the directory that holds summary.json", p)
		}
		if isRunDir(p) {
			out = append(out, p)
			continue
		}
		sub, err := subRunDirs(p)
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	return out, nil
}

func isRunDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, SummaryFile))
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

func subRunDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot list %s: %v", dir, unwrapPath(err))
	}
	var out []string
	for _, e := range entries {
		if p := filepath.Join(dir, e.Name()); e.IsDir() && isRunDir(p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		if _, err := os.Stat(filepath.Join(dir, TicksFile)); err == nil {
			return nil, fmt.Errorf("%s is missing: the run did not finish writing its directory (a run directory holds %s and %s)",
				filepath.Join(dir, SummaryFile), SummaryFile, TicksFile)
		}
		return nil, fmt.Errorf("%s holds no %s and no run directories: pass directories written by authbench run, merge or matrix", dir, SummaryFile)
	}
	return out, nil
}

// ReadRunTicks reads dir/ticks.ndjson and checks that every tick has a time
// and a positive interval. Errors name the file.
func ReadRunTicks(dir string) ([]Tick, error) {
	path := filepath.Join(dir, TicksFile)
	ticks, err := ReadTicks(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is missing: a run directory holds %s, %s and one .hlog per op", path, SummaryFile, TicksFile)
		}
		if pe, ok := err.(*os.PathError); ok {
			return nil, fmt.Errorf("cannot read %s: %v", path, pe.Err)
		}
		return nil, err
	}
	for i, t := range ticks {
		if t.Time.IsZero() || !(t.IntervalS > 0 && t.IntervalS < 86400) {
			return nil, fmt.Errorf("%s line %d is not a valid tick: it needs a time and an interval_s between 0 and 86400%s", path, i+1, DamagedHint)
		}
	}
	return ticks, nil
}

// ReadRun reads a run directory: summary.json, ticks.ndjson, one .hlog per
// op and handshake.hlog when present. Every error is one line naming the
// file at fault.
func ReadRun(dir string) (*RunData, error) {
	s, err := ReadSummary(dir)
	if err != nil {
		return nil, err
	}
	ticks, err := ReadRunTicks(dir)
	if err != nil {
		return nil, err
	}
	rd := &RunData{Dir: dir, Summary: s, Ticks: ticks, Intervals: map[string][]*hdr.Histogram{}}
	for _, o := range s.Ops {
		if rd.Intervals[o.Op], err = readOpLog(dir, o.Op); err != nil {
			return nil, err
		}
	}
	if err := checkIntervals(rd); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, HandshakeFile)
	if _, err := os.Stat(path); err == nil {
		if rd.Handshake, err = ReadHandshakeLog(path); err != nil {
			return nil, err
		}
	}
	return rd, nil
}

func readOpLog(dir, op string) ([]*hdr.Histogram, error) {
	if !validOpName(op) {
		return nil, fmt.Errorf("%s names op %q, which cannot be a file name: it is not an authbench summary%s", filepath.Join(dir, SummaryFile), op, DamagedHint)
	}
	path := filepath.Join(dir, op+HlogSuffix)
	hs, err := ReadHlog(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is missing: a run directory holds one .hlog per op (copy the run directory whole)", path)
	}
	return hs, err
}

func validOpName(op string) bool {
	return op != "" && op != "." && op != ".." && len(op) <= 200 && !strings.ContainsAny(op, "/\\\x00")
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
// the same time, into one: latency histograms added exactly, counts summed,
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
	if err := m.mergeTicks(runs, ops, start); err != nil {
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
		if r.Summary.Command != first.Summary.Command {
			return fmt.Errorf("cannot merge a %q run with a %q run (%s, %s): merge runs of one command at a time",
				first.Summary.Command, r.Summary.Command, first.Dir, r.Dir)
		}
	}
	return nil
}

// checkIntervals makes sure r has one interval histogram per op for each
// measured tick, the pairing the merge relies on.
func checkIntervals(r *RunData) error {
	measured := 0
	for _, t := range r.Ticks {
		if !t.Warmup {
			measured++
		}
	}
	for op, hs := range r.Intervals {
		if len(hs) != measured {
			return fmt.Errorf("%s holds %d intervals but %s has %d measured ticks: the run directory is incomplete or mixed up"+DamagedHint,
				filepath.Join(r.Dir, op+HlogSuffix), len(hs), TicksFile, measured)
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
// its per-op interval histograms (nil for a warm-up tick).
type contribution struct {
	run   int
	tick  *Tick
	hists map[string]*hdr.Histogram
}

// bucketize groups every run's ticks by the wall-clock second holding the
// middle of their interval, in time order.
func bucketize(runs []*RunData) ([]int64, map[int64][]contribution) {
	buckets := map[int64][]contribution{}
	for ri, r := range runs {
		k := 0
		for ti := range r.Ticks {
			t := &r.Ticks[ti]
			half := time.Duration(t.IntervalS * float64(time.Second) / 2)
			sec := t.Time.Add(-half).Unix()
			c := contribution{run: ri, tick: t}
			if !t.Warmup {
				c.hists = map[string]*hdr.Histogram{}
				for op, hs := range r.Intervals {
					c.hists[op] = hs[k]
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

// cumState carries the running totals of the merged ticks.
type cumState struct {
	count, errors, retries map[string]int64
	measuredS              float64
	conns                  []int64 // each run's latest cumulative connections
}

func (m *Merged) mergeTicks(runs []*RunData, ops []string, start time.Time) error {
	secs, buckets := bucketize(runs)
	cum := &cumState{count: map[string]int64{}, errors: map[string]int64{}, retries: map[string]int64{}, conns: make([]int64, len(runs))}
	for _, sec := range secs {
		t, hists, err := mergeBucket(sec, buckets[sec], ops, start, cum)
		if err != nil {
			return fmt.Errorf("merging the second at %s: %v", time.Unix(sec, 0).UTC().Format(time.RFC3339), err)
		}
		m.Ticks = append(m.Ticks, t)
		if !t.Warmup {
			for _, op := range ops {
				m.Intervals[op] = append(m.Intervals[op], hists[op])
			}
		}
	}
	return nil
}

// mergeBucket builds the merged tick of one wall-clock second.
func mergeBucket(sec int64, cs []contribution, ops []string, start time.Time, cum *cumState) (Tick, map[string]*hdr.Histogram, error) {
	end := time.Unix(sec+1, 0).UTC()
	t := Tick{Time: end, Elapsed: end.Sub(start).Seconds(), IntervalS: 1, Warmup: true}
	hists := map[string]*hdr.Histogram{}
	for _, c := range cs {
		t.Warmup = t.Warmup && c.tick.Warmup
		t.Events = append(t.Events, c.tick.Events...)
		cum.conns[c.run] = max(cum.conns[c.run], c.tick.ConnsOpened)
	}
	if !t.Warmup {
		cum.measuredS += t.IntervalS
	}
	for _, op := range ops {
		h := NewHistogram()
		h.SetStartTimeMs(sec * 1000)
		h.SetEndTimeMs((sec + 1) * 1000)
		for _, c := range cs {
			if src := c.hists[op]; src != nil {
				if err := addHistogram(h, src, op+HlogSuffix); err != nil {
					return t, nil, err
				}
			}
		}
		hists[op] = h
		t.Ops = append(t.Ops, mergeOpTick(op, cs, h, t.Warmup, cum))
	}
	for _, n := range cum.conns {
		t.ConnsOpened += n
	}
	sort.SliceStable(t.Events, func(a, b int) bool { return t.Events[a].Time.Before(t.Events[b].Time) })
	for i := range t.Events {
		t.Events[i].Elapsed = t.Events[i].Time.Sub(start).Seconds()
	}
	return t, hists, nil
}

// mergeOpTick sums one op's counts over the ticks of a second. Percentiles
// come from the merged interval histogram; a warm-up second has none (warm-up
// intervals are not logged), so it shows its worst tick's percentiles.
func mergeOpTick(op string, cs []contribution, h *hdr.Histogram, warmup bool, cum *cumState) OpTick {
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
		}
	}
	for _, r := range perRun {
		ot.OpsPerSec += r.count / r.seconds
	}
	if !warmup {
		p := PercentilesOf(h)
		ot.P50, ot.P95, ot.P99, ot.Max = p.P50, p.P95, p.P99, p.Max
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

func (m *Merged) mergeSummary(runs []*RunData, ops []string, start time.Time) (*Summary, error) {
	first := runs[0].Summary
	s := &Summary{
		Version: SummaryVersion, Command: first.Command, Workload: first.Workload,
		StartedAt: start, Errors: map[string]int64{}, Server: first.Server,
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
		for c, n := range rs.Errors {
			s.Errors[c] += n
		}
		s.Retried = addCounts(s.Retried, rs.Retried)
	}
	s.AuthMode, s.StopReason = strings.Join(auths, "+"), strings.Join(reasons, "+")
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

// mergeOps sums every op's counts and recomputes its latency from all its
// interval histograms; Total adds every op together.
func (m *Merged) mergeOps(s *Summary, runs []*RunData, ops []string, counts map[string]float64) error {
	total := OpSummary{Op: "__result"}
	totalH := NewHistogram()
	svc := false
	for _, op := range ops {
		o := OpSummary{Op: op}
		h := NewHistogram()
		for _, r := range runs {
			if src := r.Summary.Op(op); src != nil {
				addOpCounts(&o, src)
				svc = svc || src.Service != nil
			}
			for _, ih := range r.Intervals[op] {
				if err := addHistogram(h, ih, filepath.Join(r.Dir, op+HlogSuffix)); err != nil {
					return err
				}
			}
		}
		if s.DurationS > 0 {
			o.OpsPerSec = counts[op] / s.DurationS
		}
		o.Latency = PercentilesOf(h)
		_ = addHistogram(totalH, h, op+HlogSuffix) // same bounds: cannot drop
		addOpCounts(&total, &o)
		total.OpsPerSec += o.OpsPerSec
		s.Ops = append(s.Ops, o)
	}
	total.Latency = PercentilesOf(totalH)
	s.Total = total
	if svc {
		m.Warnings = append(m.Warnings, "service times (open loop) are not logged per interval, so the merged summary leaves them out")
	}
	return nil
}

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

func addCounts(dst, src map[string]int64) map[string]int64 {
	for k, v := range src {
		if dst == nil {
			dst = map[string]int64{}
		}
		dst[k] += v
	}
	return dst
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
	if len(phases) > 0 {
		s.Handshake = map[string]Percentiles{}
		for name, h := range phases {
			s.Handshake[name] = PercentilesOf(h)
		}
	}
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

// Write writes the merged run directory: ticks.ndjson, one .hlog per op,
// handshake.hlog and, last, summary.json.
func (m *Merged) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %v (choose another with --out)", dir, unwrapPath(err))
	}
	if err := m.writeTicks(filepath.Join(dir, TicksFile)); err != nil {
		return err
	}
	startMs := m.Summary.StartedAt.UnixMilli()
	for _, o := range m.Summary.Ops {
		comment := fmt.Sprintf("authbench latency of op %q in microseconds (merged)", o.Op)
		if err := writeHlog(filepath.Join(dir, o.Op+HlogSuffix), comment, startMs, m.Intervals[o.Op]); err != nil {
			return err
		}
	}
	if m.Handshake != nil {
		if err := m.writeHandshake(dir, startMs); err != nil {
			return err
		}
	}
	if err := m.Summary.WriteJSON(dir); err != nil {
		return fmt.Errorf("cannot write %s: %v", filepath.Join(dir, SummaryFile), unwrapPath(err))
	}
	return nil
}

func (m *Merged) writeTicks(path string) error {
	var b strings.Builder
	for _, t := range m.Ticks {
		line, err := json.Marshal(t)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, unwrapPath(err))
	}
	return nil
}

func (m *Merged) writeHandshake(dir string, startMs int64) error {
	hs := make([]*hdr.Histogram, 0, len(m.Handshake))
	for _, name := range PhaseOrder(m.Handshake) {
		h := m.Handshake[name]
		h.SetTag(name)
		h.SetStartTimeMs(startMs)
		h.SetEndTimeMs(m.Summary.EndedAt.UnixMilli())
		hs = append(hs, h)
	}
	return writeHlog(filepath.Join(dir, HandshakeFile),
		"authbench handshake phases in microseconds, one histogram per phase (Tag=phase), merged", startMs, hs)
}
