package results

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/authbench/authbench/fix"
)

// File names inside a run directory.
const (
	SummaryFile = "summary.json"
	TicksFile   = "ticks.ndjson"
	HlogSuffix  = ".hlog"
)

// RunFiles writes a run directory as the run goes: one ticks.ndjson line and
// one interval histogram per op each tick, summary.json at the end.
type RunFiles struct {
	Dir     string
	ops     []string
	startMs int64
	ticks   *os.File
	tickW   *bufio.Writer
	hlogs   []*os.File
	hlogW   []*hdr.HistogramLogWriter
	svc     *os.File // service.hlog, opened at the first open-loop tick
	svcW    *hdr.HistogramLogWriter
	points  []TickPoint
}

// CreateRunFiles creates dir (and parents) and opens the per-run files for
// the given ops. The hlog files start with the standard header
// (format version, start time, legend).
func CreateRunFiles(dir string, ops []string, startMs int64) (*RunFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, outDirError("cannot create run directory", dir, err)
	}
	f := &RunFiles{Dir: dir, ops: ops, startMs: startMs}
	var err error
	if f.ticks, err = os.Create(filepath.Join(dir, TicksFile)); err != nil {
		return nil, outDirError("cannot write to run directory", dir, err)
	}
	f.tickW = bufio.NewWriter(f.ticks)
	for _, op := range ops {
		h, err := os.Create(filepath.Join(dir, op+HlogSuffix))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("cannot write to run directory %s: %v", dir, unwrapPath(err))
		}
		w := newHlogWriter(h, fmt.Sprintf("authbench latency of op %q in microseconds", op), startMs)
		f.hlogs, f.hlogW = append(f.hlogs, h), append(f.hlogW, w)
	}
	return f, nil
}

// newHlogWriter starts an HdrHistogram interval log on w with the standard
// header (comment, format version, start time, legend). The header keeps
// whole seconds only, so the relative times are based on startMs rounded
// down to one, or a reader would shift every interval by the lost part.
func newHlogWriter(w io.Writer, comment string, startMs int64) *hdr.HistogramLogWriter {
	lw := hdr.NewHistogramLogWriter(w)
	base := startMs - startMs%1000
	_ = lw.OutputComment(comment)
	_ = lw.OutputLogFormatVersion()
	_ = lw.OutputStartTime(startMs)
	lw.SetBaseTime(base)
	_ = lw.OutputBaseTime(base)
	_ = lw.OutputLegend()
	return lw
}

// outDirError says that the output directory dir could not be written
// (what was being done, then dir and the cause without its path), keeps
// err in the chain and says to choose another output directory.
func outDirError(what, dir string, err error) error {
	return &fix.Error{Step: "out", Err: err,
		What: fix.Textf("%s %s: %v", what, dir, unwrapPath(err)),
		Fix:  fix.Textf("choose another with %v", fix.Flag("out"))}
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// WriteTick appends t to ticks.ndjson, each op's interval histogram to its
// .hlog and, in an open loop, each op's service-time histogram to
// service.hlog. Warm-up ticks go to ticks.ndjson (marked) but not to the
// logs.
func (f *RunFiles) WriteTick(t *Tick) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	f.tickW.Write(b)
	f.tickW.WriteByte('\n')
	if t.intervals == nil {
		return errors.New("the tick has no interval histograms: it was not made by Registry.Tick")
	}
	svc := t.intervals.svc
	if svc != nil && f.svcW == nil {
		if err := f.openServiceLog(); err != nil {
			return err
		}
	}
	for i := range t.Ops {
		if t.Warmup || i >= len(f.hlogW) {
			continue
		}
		if err := outputInterval(f.hlogW[i], t, t.intervals.lat[i], ""); err != nil {
			return fmt.Errorf("writing %s: %w", f.hlogs[i].Name(), err)
		}
		if svc == nil {
			continue
		}
		if err := outputInterval(f.svcW, t, svc[i], f.ops[i]); err != nil {
			return fmt.Errorf("writing %s: %w", f.svc.Name(), err)
		}
	}
	if t.IntervalS >= 0.5 { // a last, partial tick is too short to judge throughput by
		f.points = append(f.points, pointOf(t))
	}
	return f.tickW.Flush()
}

// outputInterval writes h as the interval of tick t, tagged with tag.
func outputInterval(w *hdr.HistogramLogWriter, t *Tick, h *hdr.Histogram, tag string) error {
	h.SetStartTimeMs(t.start.UnixMilli())
	h.SetEndTimeMs(t.Time.UnixMilli())
	h.SetTag(tag)
	return w.OutputIntervalHistogram(h)
}

// openServiceLog creates service.hlog: one interval per op and measured
// tick, tagged with the op's name.
func (f *RunFiles) openServiceLog() error {
	fh, err := os.Create(filepath.Join(f.Dir, ServiceFile))
	if err != nil {
		return fmt.Errorf("cannot write to run directory %s: %w", f.Dir, unwrapPath(err))
	}
	f.svc = fh
	f.svcW = newHlogWriter(fh, "authbench service time (open loop) in microseconds, one interval per op and second (Tag=op)", f.startMs)
	return nil
}

// Points returns the throughput series written so far, for rotation analysis.
func (f *RunFiles) Points() []TickPoint { return f.points }

// Close flushes and closes every file.
func (f *RunFiles) Close() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if f.tickW != nil {
		keep(f.tickW.Flush())
	}
	if f.ticks != nil {
		keep(f.ticks.Close())
	}
	for _, h := range f.hlogs {
		keep(h.Close())
	}
	if f.svc != nil {
		keep(f.svc.Close())
	}
	return first
}

// DamagedHint ends the message about a run directory's file that cannot be
// read: what to do about it.
const DamagedHint = "; the file is damaged or not authbench's: pass the run directory as `authbench run`, `merge` or `matrix` wrote it"

// ReadHlog reads every interval histogram of an .hlog file. A corrupt file
// gives an error naming it, never a panic.
func ReadHlog(path string) ([]*hdr.Histogram, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return readHlog(fh, path)
}

// readHlog decodes every interval histogram of the log r (named path in
// errors); a panic inside the decoder becomes an error.
func readHlog(in io.Reader, path string) (out []*hdr.Histogram, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%s is not a valid HdrHistogram log: the decoder failed (%v)%s", path, p, DamagedHint)
		}
	}()
	r := hdr.NewHistogramLogReader(in)
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid HdrHistogram log: %v%s", path, err, DamagedHint)
		}
		if h == nil {
			return out, nil
		}
		out = append(out, h)
	}
}

// ReadTicks reads ticks.ndjson.
func ReadTicks(path string) ([]Tick, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Tick
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var t Tick
		if err := json.Unmarshal([]byte(line), &t); err != nil {
			return nil, fmt.Errorf("%s line %d is not a valid tick: %v%s", path, i+1, err, DamagedHint)
		}
		out = append(out, t)
	}
	return out, nil
}

// HandshakeFile is the run directory file that holds the handshake phases:
// one interval histogram per phase (microseconds), tagged with its name.
const HandshakeFile = "handshake.hlog"

// ServiceFile is the run directory file that holds an open-loop run's
// service times (from the actual start, where latency counts from the
// intended one): for each measured tick one interval histogram per op
// (microseconds), tagged with the op's name. Closed-loop runs, and runs
// written before it existed, have none.
const ServiceFile = "service.hlog"

// WriteHandshakeLog writes dir/HandshakeFile: one interval histogram per
// handshake phase recorded so far, tagged with the phase name (HdrHistogram
// log "Tag="), spanning the run's start to now, so that `authbench merge`
// can add the phases of several runs exactly. A run that opened no
// connection writes the header only.
func (r *Registry) WriteHandshakeLog(dir string) error {
	r.mu.Lock()
	start := r.start
	hs := make([]*hdr.Histogram, 0, len(r.phases))
	for _, name := range PhaseOrder(r.phases) {
		h := hdr.Import(r.phases[name].Export())
		h.SetTag(name)
		hs = append(hs, h)
	}
	r.mu.Unlock()
	end := time.Now()
	for _, h := range hs {
		h.SetStartTimeMs(start.UnixMilli())
		h.SetEndTimeMs(end.UnixMilli())
	}
	return writeHlog(filepath.Join(dir, HandshakeFile),
		"authbench handshake phases in microseconds, one histogram per phase (Tag=phase)", start.UnixMilli(), hs)
}

// ReadHandshakeLog reads a handshake.hlog into one histogram per phase;
// intervals with the same tag are added up. Errors name the file.
func ReadHandshakeLog(path string) (map[string]*hdr.Histogram, error) {
	hs, err := ReadHlog(path)
	if err != nil {
		return nil, err
	}
	out := map[string]*hdr.Histogram{}
	for _, h := range hs {
		if h.Tag() == "" {
			return nil, fmt.Errorf("%s has an interval without a phase tag: it is not a handshake log written by authbench", path)
		}
		if out[h.Tag()] == nil {
			out[h.Tag()] = NewHistogram()
		}
		if err := addHistogram(out[h.Tag()], h, path); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// addHistogram adds src into dst exactly; values dst cannot hold are an
// error naming the file they came from.
func addHistogram(dst, src *hdr.Histogram, path string) error {
	if dropped := dst.Merge(src); dropped > 0 {
		return fmt.Errorf("%s holds %d latencies outside 1 µs..120 s: it was not written by authbench", path, dropped)
	}
	return nil
}

// writeHlog writes an HdrHistogram interval log of hs. Its base time is
// startMs rounded down to a whole second, the precision of the BaseTime
// header, so readers recover each interval's absolute time exactly.
func writeHlog(path, comment string, startMs int64, hs []*hdr.Histogram) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot write %s: %v", path, unwrapPath(err))
	}
	bw := bufio.NewWriter(fh)
	w := newHlogWriter(bw, comment, startMs)
	for _, h := range hs {
		if err := w.OutputIntervalHistogram(h); err != nil {
			fh.Close()
			return fmt.Errorf("writing %s: %v", path, err)
		}
	}
	if err := bw.Flush(); err != nil {
		fh.Close()
		return fmt.Errorf("writing %s: %v", path, err)
	}
	return fh.Close()
}
