package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeProc writes /proc/<pid>/{stat,status,cmdline} under dir.
func fakeProc(t *testing.T, dir string, pid, ppid int, rssKB int64, args ...string) {
	t.Helper()
	d := filepath.Join(dir, strconv.Itoa(pid))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"stat":    strconv.Itoa(pid) + " (auth bench) (x) S " + strconv.Itoa(ppid) + " 1 1 0 -1\n",
		"status":  "Name:\tauthbench\nVmPeak:\t  99999 kB\nVmRSS:\t  " + strconv.FormatInt(rssKB, 10) + " kB\nThreads:\t9\n",
		"cmdline": strings.Join(args, "\x00") + "\x00",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWatcherSamplesChildrenOnly(t *testing.T) {
	dir := t.TempDir()
	fakeProc(t, dir, 100, 1, 5000, "authbench", "matrix")
	fakeProc(t, dir, 101, 100, 30000, "/bin/authbench", "run", "bank", "--auth", "vault", "--out", "x")
	fakeProc(t, dir, 102, 100, 20000, "/bin/authbench", "init", "bank", "--auth", "cert")
	fakeProc(t, dir, 103, 7, 1, "other")
	w := newWatcher(100)
	w.proc = dir
	start := time.Now()
	w.sampleOnce(start)
	w.sampleOnce(start.Add(time.Second))
	seen := w.seen()
	if len(seen) != 2 || seen[0].name != "bank-vault" || seen[1].name != "init-bank" {
		t.Fatalf("seen %+v, want bank-vault and init-bank", seen)
	}
	p := seen[0]
	if len(p.samples) != 2 || p.samples[1].rss != 30000*1024 || p.samples[1].at != time.Second {
		t.Errorf("samples %+v", p.samples)
	}
	if isDriver(seen[1]) || !isDriver(seen[0]) {
		t.Error("an init is not a driver run; a run is")
	}
}

// series builds a process sampled every 10 s with the given MiB values.
func series(mibs ...int64) *proc {
	p := &proc{name: "bank-cert"}
	for i, m := range mibs {
		p.samples = append(p.samples, sample{at: time.Duration(i) * 10 * time.Second, rss: m << 20})
	}
	return p
}

func TestJudge(t *testing.T) {
	for _, c := range []struct {
		name   string
		p      *proc
		ok     bool
		baseAt time.Duration
		note   bool
	}{
		{"flat after the first minute", series(10, 20, 30, 40, 40, 40, 50, 50, 51, 52, 52, 53, 54), true, time.Minute, false},
		{"growing", series(10, 20, 30, 40, 40, 40, 50, 55, 60, 65, 70, 75, 80), false, time.Minute, false},
		{"short run judged from half its life", series(30, 40, 40, 41, 42), true, 20 * time.Second, true},
		{"too few readings", series(40, 41), false, 0, true},
	} {
		v := judge(c.p, time.Minute, 0.2)
		if v.ok != c.ok || (c.baseAt > 0 && v.baseAt != c.baseAt) || (v.note != "") != c.note {
			t.Errorf("%s: %+v", c.name, v)
		}
	}
	long := &proc{name: "bank-vault"}
	for i := range 100 {
		long.samples = append(long.samples, sample{at: time.Duration(i) * 2 * time.Second, rss: int64(40+i%3) << 20})
	}
	v := judge(long, time.Minute, 0.2)
	tl := v.timeline
	if len(tl) != timelinePoints || tl[0] != v.base || tl[len(tl)-1] != v.end {
		t.Errorf("timeline %v, want %d readings from the baseline %d to the end %d", tl, timelinePoints, v.base, v.end)
	}
	var b strings.Builder
	if printVerdicts(&b, []verdict{judge(series(50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50), time.Minute, 0.2)}, 0.2) != true ||
		!strings.Contains(b.String(), "bank-cert") {
		t.Errorf("verdicts printed %q", b.String())
	}
}
