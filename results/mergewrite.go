package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Write writes the merged run directory: ticks.ndjson, one .hlog per op,
// service.hlog (open loop), handshake.hlog and, last, summary.json.
func (m *Merged) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return outDirError("cannot create", dir, err)
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
	if m.Service != nil {
		if err := m.writeService(dir, startMs); err != nil {
			return err
		}
	}
	if m.Handshake != nil {
		if err := m.writeHandshake(dir, startMs); err != nil {
			return err
		}
	}
	if err := m.Summary.WriteJSON(dir); err != nil {
		return fmt.Errorf("cannot write %s: %w", filepath.Join(dir, SummaryFile), unwrapPath(err))
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
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	return nil
}

// writeService writes service.hlog as a run does: for each measured second,
// one interval per op tagged with its name.
func (m *Merged) writeService(dir string, startMs int64) error {
	var hs []*hdr.Histogram
	for k := range m.Intervals[m.Summary.Ops[0].Op] {
		for _, o := range m.Summary.Ops {
			h := m.Service[o.Op][k]
			h.SetTag(o.Op)
			hs = append(hs, h)
		}
	}
	return writeHlog(filepath.Join(dir, ServiceFile),
		"authbench service time (open loop) in microseconds, one interval per op and second (Tag=op), merged", startMs, hs)
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
