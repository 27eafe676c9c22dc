package results

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
	// Service holds, per op, one service-time histogram per measured tick,
	// like Intervals, from service.hlog; nil when the directory has none (a
	// closed-loop run, or one written before the file existed).
	Service map[string][]*hdr.Histogram
	// Handshake holds one histogram per phase from handshake.hlog; nil when
	// the directory has none (runs written before it existed).
	Handshake map[string]*hdr.Histogram
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
			return nil, fmt.Errorf("cannot read run directory %s: %w (pass directories written by authbench run, merge or matrix)", p, unwrapPath(err))
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
		return nil, fmt.Errorf("cannot list %s: %w", dir, unwrapPath(err))
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
			return nil, fmt.Errorf("cannot read %s: %w", path, pe.Err)
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
// op, and service.hlog and handshake.hlog when present. Every error is one
// line naming the file at fault.
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
	if path := filepath.Join(dir, ServiceFile); exists(path) {
		if rd.Service, err = ReadServiceLog(path, s); err != nil {
			return nil, err
		}
	}
	if err := checkIntervals(rd); err != nil {
		return nil, err
	}
	if path := filepath.Join(dir, HandshakeFile); exists(path) {
		if rd.Handshake, err = ReadHandshakeLog(path); err != nil {
			return nil, err
		}
	}
	return rd, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
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

// ReadServiceLog reads a service.hlog into each op's intervals, in order;
// every interval must be tagged with an op of s. Errors name the file.
func ReadServiceLog(path string, s *Summary) (map[string][]*hdr.Histogram, error) {
	hs, err := ReadHlog(path)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*hdr.Histogram, len(s.Ops))
	for _, o := range s.Ops {
		out[o.Op] = []*hdr.Histogram{}
	}
	for _, h := range hs {
		if _, ok := out[h.Tag()]; !ok {
			return nil, fmt.Errorf("%s has an interval tagged %q, which is not an op of the run%s", path, h.Tag(), DamagedHint)
		}
		out[h.Tag()] = append(out[h.Tag()], h)
	}
	return out, nil
}

// checkIntervals makes sure r has one latency interval histogram per op
// for each measured tick, and as many service-time ones when it has them:
// the pairing the merge relies on.
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
	for op, hs := range r.Service {
		if len(hs) != measured {
			return fmt.Errorf("%s holds %d intervals of op %q but %s has %d measured ticks: the run directory is incomplete or mixed up"+DamagedHint,
				filepath.Join(r.Dir, ServiceFile), len(hs), op, TicksFile, measured)
		}
	}
	return nil
}
