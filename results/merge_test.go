package results

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// testRun describes a synthetic run written through Registry and RunFiles.
type testRun struct {
	id      byte      // run id is 16 bytes of it
	start   time.Time // run start
	ticks   int       // 1 s ticks
	warmup  int       // the first ticks are warm-up
	perTick int       // successful ops per op per tick
	auth    string
	open    bool // open loop: service time recorded next to latency
}

// written is what a testRun recorded, for the assertions.
type written struct {
	dir    string
	reg    *Registry
	sum    *Summary
	ticks  [][]*hdr.Histogram // [tick][op] latency of the ops recorded in it
	phases map[string]*hdr.Histogram
}

var testOps = []string{"transfer", "audit"}

// writeTestRun records known latencies (different per run, tick and op),
// retries, errors, outcomes, connections, handshake phases and a rotation,
// and writes the run directory as `authbench run` does.
func writeTestRun(t *testing.T, dir string, tr testRun) *written {
	t.Helper()
	reg := NewRegistry(testOps, tr.open, tr.start)
	files, err := CreateRunFiles(dir, testOps, tr.start.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	w := &written{dir: dir, reg: reg, phases: map[string]*hdr.Histogram{}}
	rec := reg.NewRecorder()
	for name, base := range map[string]int{"credential": 50, "tls": 900, "total": 2000} {
		w.phases[name] = NewHistogram()
		for j := 0; j < 20; j++ {
			d := time.Duration(base+int(tr.id)*37+j*11) * time.Microsecond
			reg.Phase(name, d)
			recordDuration(w.phases[name], d)
		}
	}
	reg.ConnOpened(3 * time.Millisecond * time.Duration(tr.id))
	reg.ConnOpened(time.Millisecond)
	reg.ConnFailed()
	var events []Event
	for k := 0; k < tr.ticks; k++ {
		hs := []*hdr.Histogram{NewHistogram(), NewHistogram()}
		for op := range testOps {
			for j := 0; j < tr.perTick; j++ {
				d := time.Duration(100+int(tr.id)*1000+k*250+op*3000+j*j*7) * time.Microsecond
				rec.Record(op, d, d/3+time.Duration(j)*time.Microsecond, j%3, ClassNone)
				recordDuration(hs[op], d)
			}
			rec.Record(op, time.Millisecond, 0, 1, ClassRetryable)
			rec.Outcome(op, "rolled_back", 0)
		}
		end := tr.start.Add(time.Duration(k+1) * time.Second)
		tick := reg.Tick(end, k < tr.warmup)
		if k == tr.ticks/2 {
			e := Event{Time: end.Add(-400 * time.Millisecond), Kind: "rotation", Source: tr.auth, Detail: fmt.Sprintf("serial %d", tr.id), Rotation: true}
			e.Elapsed = e.Time.Sub(tr.start).Seconds()
			tick.Events = append(tick.Events, e)
			events = append(events, e)
		}
		if err := files.WriteTick(tick); err != nil {
			t.Fatal(err)
		}
		w.ticks = append(w.ticks, hs)
	}
	end := tr.start.Add(time.Duration(tr.ticks) * time.Second)
	s := reg.Summary(end, files.Points())
	s.Command, s.Workload, s.AuthMode = "run", "bank", tr.auth
	s.RunID = hex.EncodeToString(bytes.Repeat([]byte{tr.id}, 16))
	s.Config = map[string]string{"concurrency": "4", "auth": tr.auth}
	s.Events, s.Rotations = events, RotationImpacts(events, files.Points())
	if err := s.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	if err := files.Close(); err != nil {
		t.Fatal(err)
	}
	if err := reg.WriteHandshakeLog(dir); err != nil {
		t.Fatal(err)
	}
	w.sum = s
	return w
}

// twoRuns writes two overlapping runs whose ticks start at different
// sub-second offsets: a at 1000.3 s (first tick warm-up), b at 1000.8 s.
func twoRuns(t *testing.T) (*written, *written) {
	root := t.TempDir()
	a := writeTestRun(t, filepath.Join(root, "a"), testRun{id: 1, start: time.Unix(1000, 300e6), ticks: 5, warmup: 1, perTick: 40, auth: "cert"})
	b := writeTestRun(t, filepath.Join(root, "b"), testRun{id: 2, start: time.Unix(1000, 800e6), ticks: 4, perTick: 40, auth: "cert"})
	return a, b
}

func mustMerge(t *testing.T, dirs ...string) *Merged {
	t.Helper()
	m, err := MergeDirs(dirs)
	if err != nil {
		t.Fatalf("merge: %v", err)
	}
	return m
}

// writeAndRead writes m to a new directory, out, and reads it back.
func writeAndRead(t *testing.T, m *Merged) (out string, back *RunData) {
	t.Helper()
	out = filepath.Join(t.TempDir(), "merged")
	if err := m.Write(out); err != nil {
		t.Fatal(err)
	}
	back, err := ReadRun(out)
	if err != nil {
		t.Fatalf("reading the merged directory: %v", err)
	}
	return out, back
}

func added(hs ...*hdr.Histogram) *hdr.Histogram {
	sum := NewHistogram()
	for _, h := range hs {
		sum.Merge(h)
	}
	return sum
}

func TestMergeCountsAreSums(t *testing.T) {
	a, b := twoRuns(t)
	m := mustMerge(t, a.dir, b.dir)
	for _, op := range testOps {
		got, sa, sb := m.Summary.Op(op), a.sum.Op(op), b.sum.Op(op)
		if got.Count != sa.Count+sb.Count || got.Committed != sa.Committed+sb.Committed ||
			got.Errors != sa.Errors+sb.Errors || got.Retries != sa.Retries+sb.Retries ||
			got.RetriedTxns != sa.RetriedTxns+sb.RetriedTxns || got.RetryFailures != sa.RetryFailures+sb.RetryFailures {
			t.Errorf("%s: merged %+v, runs %+v and %+v", op, got, sa, sb)
		}
		if got.ErrorsByClass["retryable"] != sa.ErrorsByClass["retryable"]+sb.ErrorsByClass["retryable"] ||
			got.Outcomes["rolled_back"] != sa.Outcomes["rolled_back"]+sb.Outcomes["rolled_back"] {
			t.Errorf("%s: errors by class %v, outcomes %v", op, got.ErrorsByClass, got.Outcomes)
		}
	}
	if got, want := m.Summary.Errors["retryable"], a.sum.Errors["retryable"]+b.sum.Errors["retryable"]; got != want || got == 0 {
		t.Errorf("errors_by_class retryable = %d, want %d", got, want)
	}
	c, ca, cb := m.Summary.Connections, a.sum.Connections, b.sum.Connections
	if c.Opened != ca.Opened+cb.Opened || c.Failed != ca.Failed+cb.Failed {
		t.Errorf("connections %+v, runs %+v %+v", c, ca, cb)
	}
	wantAvg := (ca.AvgConnectMs*float64(ca.Opened) + cb.AvgConnectMs*float64(cb.Opened)) / float64(ca.Opened+cb.Opened)
	if diff := c.AvgConnectMs - wantAvg; diff > 1e-9 || diff < -1e-9 {
		t.Errorf("avg connect %v, want %v", c.AvgConnectMs, wantAvg)
	}
	if m.Summary.Total.Count != a.sum.Total.Count+b.sum.Total.Count {
		t.Errorf("total count %d, want %d", m.Summary.Total.Count, a.sum.Total.Count+b.sum.Total.Count)
	}
}

func TestMergePercentilesAreThoseOfTheAddedHistograms(t *testing.T) {
	a, b := twoRuns(t)
	m := mustMerge(t, a.dir, b.dir)
	all := NewHistogram()
	for i, op := range testOps {
		want := PercentilesOf(added(a.reg.cumLat[i], b.reg.cumLat[i]))
		if got := m.Summary.Op(op).Latency; got != want {
			t.Errorf("%s latency %+v, want %+v", op, got, want)
		}
		all.Merge(added(a.reg.cumLat[i], b.reg.cumLat[i]))
	}
	if got, want := m.Summary.Total.Latency, PercentilesOf(all); got != want {
		t.Errorf("total latency %+v, want %+v", got, want)
	}
	for name := range a.phases {
		want := PercentilesOf(added(a.phases[name], b.phases[name]))
		if got := m.Summary.Handshake[name]; got != want {
			t.Errorf("handshake %s %+v, want %+v", name, got, want)
		}
	}
	if len(m.Warnings) != 0 {
		t.Errorf("unexpected warnings %q", m.Warnings)
	}
}

func TestMergeAlignsTicksOnWallClockSeconds(t *testing.T) {
	a, b := twoRuns(t)
	m := mustMerge(t, a.dir, b.dir)
	// a's ticks end at 1001.3 … 1005.3 (middles 1000.8 …), b's at 1001.8 …
	// 1004.8 (middles 1001.3 …): second 1000 holds a's first tick alone,
	// seconds 1001-1003 one tick of each, 1004 a's last tick alone.
	if len(m.Ticks) != 5 {
		t.Fatalf("%d merged ticks, want 5", len(m.Ticks))
	}
	for i, tk := range m.Ticks {
		if want := time.Unix(int64(1001+i), 0); !tk.Time.Equal(want) {
			t.Errorf("tick %d ends at %v, want %v", i, tk.Time, want)
		}
	}
	if !m.Ticks[0].Warmup || m.Ticks[1].Warmup {
		t.Errorf("warm-up flags %v %v, want true false", m.Ticks[0].Warmup, m.Ticks[1].Warmup)
	}
	for op := range testOps {
		mid := m.Ticks[2].Ops[op] // second 1002: a's tick 2 and b's tick 1
		h := added(a.ticks[2][op], b.ticks[1][op])
		p := PercentilesOf(h)
		if mid.Count != h.TotalCount() || mid.P50 != p.P50 || mid.P99 != p.P99 || mid.Max != p.Max {
			t.Errorf("op %d second 1002: %+v, want count %d and %+v", op, mid, h.TotalCount(), p)
		}
		if mid.Errors != 2 || mid.Retries != a.readTickRetries(t, 2, op)+b.readTickRetries(t, 1, op) {
			t.Errorf("op %d second 1002: errors %d retries %d", op, mid.Errors, mid.Retries)
		}
	}
	if n := len(m.Intervals["transfer"]); n != 4 {
		t.Errorf("%d merged intervals, want one per measured second (4)", n)
	}
}

func (w *written) readTickRetries(t *testing.T, tick, op int) int64 {
	ticks, err := ReadTicks(filepath.Join(w.dir, TicksFile))
	if err != nil {
		t.Fatal(err)
	}
	return ticks[tick].Ops[op].Retries
}

func TestMergeOpsPerSecOverTheCommonWindow(t *testing.T) {
	a, b := twoRuns(t)
	m := mustMerge(t, a.dir, b.dir)
	// Both runs do perTick+1 ops per second per op (one of them fails), of
	// which perTick succeed: together 80 successful ops per second.
	for _, op := range testOps {
		if got := m.Summary.Op(op).OpsPerSec; got < 80-1e-9 || got > 80+1e-9 {
			t.Errorf("%s ops/s = %v, want 80", op, got)
		}
	}
	// a measures 1001.3-1005.3, b 1000.8-1004.8: they overlap 3.5 s.
	if d := m.Summary.DurationS; d < 3.5-1e-9 || d > 3.5+1e-9 {
		t.Errorf("duration %v, want 3.5", d)
	}
}

func TestMergeRunIDsEventsRotations(t *testing.T) {
	a, b := twoRuns(t)
	m := mustMerge(t, a.dir, b.dir)
	s := m.Summary
	if !reflect.DeepEqual(s.RunIDs, []string{a.sum.RunID, b.sum.RunID}) {
		t.Errorf("run_ids %v", s.RunIDs)
	}
	if id, err := hex.DecodeString(s.RunID); err != nil || len(id) != 16 || s.RunID == a.sum.RunID {
		t.Errorf("run_id %q is not a fresh 16-byte hex id", s.RunID)
	}
	if len(s.Events) != 2 || !s.Events[0].Time.Before(s.Events[1].Time) {
		t.Fatalf("events %+v", s.Events)
	}
	if len(s.Rotations) != 2 {
		t.Errorf("rotations %+v, want one per rotation event", s.Rotations)
	}
	if want := s.Events[0].Time.Sub(s.StartedAt).Seconds(); s.Events[0].Elapsed != want {
		t.Errorf("event elapsed %v, want %v (from the merged start)", s.Events[0].Elapsed, want)
	}
	if !s.StartedAt.Equal(a.sum.StartedAt) || !s.EndedAt.Equal(a.sum.EndedAt) {
		t.Errorf("merged window %v-%v", s.StartedAt, s.EndedAt)
	}
}

func TestMergedDirectoryReadsBackAndMergesAgain(t *testing.T) {
	a, b := twoRuns(t)
	m := mustMerge(t, a.dir, b.dir)
	out, back := writeAndRead(t, m)
	if !reflect.DeepEqual(back.Summary.RunIDs, m.Summary.RunIDs) || back.Summary.Op("transfer").Count != m.Summary.Op("transfer").Count {
		t.Errorf("summary did not survive the round trip: %+v", back.Summary)
	}
	c := writeTestRun(t, filepath.Join(t.TempDir(), "c"), testRun{id: 3, start: time.Unix(1001, 0), ticks: 3, perTick: 10, auth: "password"})
	m2 := mustMerge(t, out, c.dir)
	if len(m2.Summary.RunIDs) != 3 || m2.Summary.AuthMode != "cert+password" {
		t.Errorf("run ids %v, auth %q", m2.Summary.RunIDs, m2.Summary.AuthMode)
	}
	want := PercentilesOf(added(a.reg.cumLat[0], b.reg.cumLat[0], c.reg.cumLat[0]))
	if got := m2.Summary.Op("transfer").Latency; got != want {
		t.Errorf("merge of a merge: latency %+v, want %+v", got, want)
	}
	if got, want := m2.Summary.Handshake["tls"], PercentilesOf(added(a.phases["tls"], b.phases["tls"], c.phases["tls"])); got != want {
		t.Errorf("merge of a merge: tls %+v, want %+v", got, want)
	}
}

func TestMergeRefusesDifferentShapes(t *testing.T) {
	a, b := twoRuns(t)
	for _, r := range []struct {
		dir   string
		sum   *Summary
		style string
	}{{a.dir, a.sum, "app"}, {b.dir, b.sum, "single"}} {
		r.sum.TxnStyle, r.sum.RetryProtocol = r.style, "full"
		if err := r.sum.WriteJSON(r.dir); err != nil {
			t.Fatal(err)
		}
	}
	_, err := MergeDirs([]string{a.dir, b.dir})
	if err == nil || !strings.Contains(err.Error(), "different transaction shapes") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line about different shapes", err)
	}
	b.sum.TxnStyle = "app"
	if err := b.sum.WriteJSON(b.dir); err != nil {
		t.Fatal(err)
	}
	m, err := MergeDirs([]string{a.dir, b.dir})
	if err != nil || m.Summary.Shape() != "app, full retries" {
		t.Fatalf("merge of two app runs: %v, shape %q", err, m.Summary.Shape())
	}
}

func TestMergeRefusesDifferentWorkloads(t *testing.T) {
	a, b := twoRuns(t)
	b.sum.Workload = "orders"
	if err := b.sum.WriteJSON(b.dir); err != nil {
		t.Fatal(err)
	}
	_, err := MergeDirs([]string{a.dir, b.dir})
	if err == nil || !strings.Contains(err.Error(), "different workloads") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line about different workloads", err)
	}
}

func TestMergeWithoutHandshakeLogWarns(t *testing.T) {
	a, b := twoRuns(t)
	if err := os.Remove(filepath.Join(b.dir, HandshakeFile)); err != nil {
		t.Fatal(err)
	}
	m := mustMerge(t, a.dir, b.dir)
	if m.Summary.Handshake != nil || m.Handshake != nil || len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], b.dir) {
		t.Errorf("handshake %v, warnings %q", m.Summary.Handshake, m.Warnings)
	}
}

func TestHandshakeLogRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a := writeTestRun(t, dir, testRun{id: 4, start: time.Unix(2000, 0), ticks: 1, perTick: 1, auth: "cert"})
	got, err := ReadHandshakeLog(filepath.Join(dir, HandshakeFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(a.phases) {
		t.Fatalf("phases %v", got)
	}
	for name, h := range a.phases {
		if !got[name].Equals(h) {
			t.Errorf("phase %s differs after the round trip", name)
		}
		if p := PercentilesOf(got[name]); p != a.sum.Handshake[name] {
			t.Errorf("phase %s: %+v, summary says %+v", name, p, a.sum.Handshake[name])
		}
	}
}

func TestReadRunBadInput(t *testing.T) {
	cases := map[string]func(dir string) error{
		"transfer.hlog": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "transfer.hlog"), []byte("0.0,1.0,2.0,HISTFAAAAB3not-a-histogram\n"), 0o644)
		},
		"ticks.ndjson": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, TicksFile), []byte("{\"time\":\"2026-01-01T00:00:00Z\",\"interval_s\":1}\n{oops\n"), 0o644)
		},
		"summary.json": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, SummaryFile), []byte(`{"version":1,"workload":`), 0o644)
		},
		"handshake.hlog": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, HandshakeFile), []byte("#[BaseTime: 0]\nTag=tls,0.0,1.0,2.0,!!!\n"), 0o644)
		},
		"audit.hlog": func(dir string) error { return os.Remove(filepath.Join(dir, "audit.hlog")) },
	}
	for file, corrupt := range cases {
		t.Run(file, func(t *testing.T) {
			a, _ := twoRuns(t)
			if err := corrupt(a.dir); err != nil {
				t.Fatal(err)
			}
			_, err := ReadRun(a.dir)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(a.dir, file)) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line naming %s", err, file)
			}
		})
	}
}

func TestReadRunRejectsMismatchedIntervals(t *testing.T) {
	a, _ := twoRuns(t)
	lines, err := os.ReadFile(filepath.Join(a.dir, TicksFile))
	if err != nil {
		t.Fatal(err)
	}
	trimmed := strings.Join(strings.Split(strings.TrimSpace(string(lines)), "\n")[:3], "\n") + "\n"
	if err := os.WriteFile(filepath.Join(a.dir, TicksFile), []byte(trimmed), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRun(a.dir); err == nil || !strings.Contains(err.Error(), "measured ticks") {
		t.Fatalf("err = %v, want the interval count mismatch", err)
	}
}

func TestRunDirsExpandsMatrixDirectories(t *testing.T) {
	a, b := twoRuns(t)
	root := filepath.Dir(a.dir)
	got, err := RunDirs([]string{root, filepath.Join(a.dir, SummaryFile)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{a.dir, b.dir, a.dir}; !reflect.DeepEqual(got, want) {
		t.Errorf("RunDirs = %v, want %v", got, want)
	}
	if _, err := RunDirs([]string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no summary.json") {
		t.Errorf("empty directory: err = %v", err)
	}
	if _, err := RunDirs([]string{filepath.Join(root, "nope")}); err == nil {
		t.Error("missing directory accepted")
	}
}

// openRuns writes two overlapping open-loop runs, as `run --max-rate` does.
func openRuns(t *testing.T) (*written, *written) {
	root := t.TempDir()
	a := writeTestRun(t, filepath.Join(root, "a"), testRun{id: 5, start: time.Unix(1000, 300e6), ticks: 5, warmup: 1, perTick: 40, auth: "cert", open: true})
	b := writeTestRun(t, filepath.Join(root, "b"), testRun{id: 6, start: time.Unix(1000, 800e6), ticks: 4, perTick: 40, auth: "cert", open: true})
	return a, b
}

func TestMergeKeepsServiceTimes(t *testing.T) {
	a, b := openRuns(t)
	for _, w := range []*written{a, b} {
		rd, err := ReadRun(w.dir)
		if err != nil {
			t.Fatal(err)
		}
		for i, op := range testOps {
			if got := rd.Service[op]; len(got) != len(rd.Intervals[op]) || !added(got...).Equals(w.reg.cumSvc[i]) {
				t.Errorf("%s of %s: %d intervals that do not add up to the run's service times", ServiceFile, op, len(got))
			}
		}
	}
	m := mustMerge(t, a.dir, b.dir)
	if len(m.Warnings) != 0 {
		t.Errorf("unexpected warnings %q", m.Warnings)
	}
	all := NewHistogram()
	for i, op := range testOps {
		h := added(a.reg.cumSvc[i], b.reg.cumSvc[i])
		got := m.Summary.Op(op).Service
		if got == nil || *got != PercentilesOf(h) || got.Count != a.sum.Op(op).Service.Count+b.sum.Op(op).Service.Count {
			t.Errorf("%s service %+v, want %+v", op, got, PercentilesOf(h))
		}
		all.Merge(h)
	}
	if got := m.Summary.Total.Service; got == nil || *got != PercentilesOf(all) {
		t.Errorf("total service %+v, want %+v", got, PercentilesOf(all))
	}
	if mid := m.Ticks[2].Ops[0]; mid.SvcP50 == 0 || mid.SvcP50 >= mid.P50 {
		t.Errorf("merged second 1002: service p50 %v beside latency p50 %v", mid.SvcP50, mid.P50)
	}
	out, back := writeAndRead(t, m)
	if got := back.Service["transfer"]; len(got) != len(m.Intervals["transfer"]) || !added(got...).Equals(added(m.Service["transfer"]...)) {
		t.Errorf("merged %s does not read back: %d intervals", ServiceFile, len(got))
	}
	again := mustMerge(t, out, a.dir)
	if got := again.Summary.Op("audit").Service; got == nil || got.Count != m.Summary.Op("audit").Service.Count+a.sum.Op("audit").Service.Count {
		t.Errorf("merge of a merge: audit service %+v", got)
	}
}

func TestMergeLeavesServiceTimesOutWhenNotEveryRunLoggedThem(t *testing.T) {
	t.Run("missing service.hlog", func(t *testing.T) {
		a, b := openRuns(t)
		if err := os.Remove(filepath.Join(b.dir, ServiceFile)); err != nil {
			t.Fatal(err)
		}
		m := mustMerge(t, a.dir, b.dir)
		if m.Summary.Op("transfer").Service != nil || m.Service != nil || len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], b.dir) {
			t.Errorf("service %+v, warnings %q", m.Summary.Op("transfer").Service, m.Warnings)
		}
	})
	t.Run("open and closed loop", func(t *testing.T) {
		a, _ := openRuns(t)
		c := writeTestRun(t, filepath.Join(t.TempDir(), "c"), testRun{id: 7, start: time.Unix(1001, 0), ticks: 3, perTick: 10, auth: "cert"})
		if _, err := os.Stat(filepath.Join(c.dir, ServiceFile)); err == nil {
			t.Errorf("a closed-loop run wrote %s", ServiceFile)
		}
		m := mustMerge(t, a.dir, c.dir)
		if m.Summary.Op("transfer").Service != nil || len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "closed") {
			t.Errorf("service %+v, warnings %q", m.Summary.Op("transfer").Service, m.Warnings)
		}
	})
}

func TestReadRunBadServiceLog(t *testing.T) {
	cases := map[string]string{
		"corrupt":     "#[BaseTime: 0]\nTag=transfer,0.0,1.0,2.0,!!!\n",
		"unknown op":  "",
		"short of op": "",
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			a, _ := openRuns(t)
			path := filepath.Join(a.dir, ServiceFile)
			hs, err := ReadHlog(path)
			if err != nil {
				t.Fatal(err)
			}
			switch name {
			case "unknown op":
				hs[0].SetTag("nope")
			case "short of op":
				hs = hs[:len(hs)-1]
			}
			if content == "" {
				err = writeHlog(path, "test", a.sum.StartedAt.UnixMilli(), hs)
			} else {
				err = os.WriteFile(path, []byte(content), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = ReadRun(a.dir)
			if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line naming %s", err, path)
			}
		})
	}
}
