package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The readers of run directories take files a user hands over: whatever the
// bytes, they return a result or a one-line error naming the file, and never
// panic. Seed corpora are in testdata/fuzz/<target>/.

// fuzzFile writes b to a file of the given name in a directory kept for the
// whole fuzz run and returns its path.
func fuzzFile(t *testing.T, dir, name string, b []byte) string {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkOneLine(t *testing.T, err error, path string) {
	if err == nil {
		return
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, path) {
		t.Fatalf("error %q is not one line naming %s", msg, path)
	}
}

func FuzzReadHlog(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzFile(t, dir, "op.hlog", b)
		hs, err := ReadHlog(path)
		checkOneLine(t, err, path)
		for _, h := range hs {
			_ = PercentilesOf(h)
			_ = addHistogram(NewHistogram(), h, path)
		}
		_, err = ReadHandshakeLog(path)
		checkOneLine(t, err, path)
		_, err = ReadServiceLog(path, &Summary{Ops: []OpSummary{{Op: "transfer"}}})
		checkOneLine(t, err, path)
	})
}

func FuzzReadTicks(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzFile(t, dir, TicksFile, b)
		_, err := ReadTicks(path)
		checkOneLine(t, err, path)
		ticks, err := ReadRunTicks(dir)
		checkOneLine(t, err, path)
		for _, tk := range ticks {
			if tk.Time.IsZero() || tk.IntervalS <= 0 {
				t.Fatalf("ReadRunTicks let through %+v", tk)
			}
		}
	})
}

func FuzzReadSummary(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := fuzzFile(t, dir, SummaryFile, b)
		s, err := ReadSummary(path)
		checkOneLine(t, err, path)
		if err == nil {
			_ = s.Op("transfer")
			_ = PhaseOrder(s.Handshake)
		}
	})
}
