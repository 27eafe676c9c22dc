package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/results/report/reporttest"
)

// rmOutcome is what one in-process authbench command did.
type rmOutcome struct {
	stdout, stderr string
	code           int
}

func rmRun(args ...string) rmOutcome {
	var out, errb bytes.Buffer
	code := realMain(args, &out, &errb)
	return rmOutcome{out.String(), errb.String(), code}
}

// rmFixture writes run directories as several processes would:
// drivers/a and drivers/b ran bank with cert at the same time (b started
// 400 ms later), matrix/ holds bank with password and orders with vault.
func rmFixture(t *testing.T) (root string, a, b *results.Summary) {
	t.Helper()
	root = t.TempDir()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 250e6, time.UTC)
	write := func(rel string, sp reporttest.Spec) *results.Summary {
		s, err := reporttest.Write(filepath.Join(root, rel), sp)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a = write("drivers/a", reporttest.Spec{Auth: "cert", Start: t0, Seconds: 24, Warmup: 2, Rotate: []int{8, 17}, Seed: 1})
	b = write("drivers/b", reporttest.Spec{Auth: "cert", Start: t0.Add(400 * time.Millisecond), Seconds: 24, Warmup: 2, Rotate: []int{12}, Seed: 2})
	write("matrix/bank-password", reporttest.Spec{Auth: "password", Start: t0.Add(time.Minute), Seconds: 20, Rate: 300, Seed: 3, Base: 3 * time.Millisecond})
	write("matrix/orders-vault", reporttest.Spec{Workload: "orders", Auth: "vault", Ops: []string{"new_order", "browse"},
		Start: t0.Add(2 * time.Minute), Seconds: 20, Rate: 120, Rotate: []int{10}, Seed: 4, Base: 6 * time.Millisecond})
	return root, a, b
}

func rmAssertOneLine(t *testing.T, o rmOutcome, code int, want string) {
	t.Helper()
	if o.code != code || strings.Count(o.stderr, "\n") != 1 || !strings.Contains(o.stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit %d and one line containing %q", o.code, o.stderr, code, want)
	}
}

func TestMergeCommandWritesARunDirectory(t *testing.T) {
	root, a, b := rmFixture(t)
	out := filepath.Join(root, "matrix", "bank-cert")
	o := rmRun("merge", filepath.Join(root, "drivers"), "--out", out)
	if o.code != 0 || o.stderr != "" || !strings.Contains(o.stdout, "merged 2 runs into run directory: "+out) {
		t.Fatalf("merge: exit %d\nstdout %s\nstderr %s", o.code, o.stdout, o.stderr)
	}
	m, err := results.ReadRun(out)
	if err != nil {
		t.Fatalf("merged directory does not read back: %v", err)
	}
	s := m.Summary
	if len(s.RunIDs) != 2 || s.RunIDs[0] != a.RunID || s.RunIDs[1] != b.RunID {
		t.Errorf("run_ids %v, want %s and %s", s.RunIDs, a.RunID, b.RunID)
	}
	if got, want := s.Op("transfer").Committed, a.Op("transfer").Committed+b.Op("transfer").Committed; got != want {
		t.Errorf("committed %d, want %d", got, want)
	}
	if len(s.Rotations) != 3 || len(s.Handshake) != 6 {
		t.Errorf("%d rotations and %d handshake phases, want 3 and 6", len(s.Rotations), len(s.Handshake))
	}
	again := rmRun("merge", filepath.Join(root, "drivers", "a"), filepath.Join(root, "drivers", "b"), "--out", out)
	rmAssertOneLine(t, again, 2, "already holds a run")
}

func TestMergeAndReportUsageErrors(t *testing.T) {
	root, _, _ := rmFixture(t)
	a, b := filepath.Join(root, "drivers", "a"), filepath.Join(root, "drivers", "b")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"merge"}, "missing run directories"},
		{[]string{"merge", a, b}, "missing --out"},
		{[]string{"merge", a, "--out", filepath.Join(root, "m")}, "at least two run directories"},
		{[]string{"merge", a, b, "--out", a}, "is one of the runs to merge"},
		{[]string{"merge", a, b, "--bogus"}, "unknown flag"},
		{[]string{"report"}, "missing run directories"},
		{[]string{"report", a, "--bogus"}, "unknown flag"},
	}
	for _, c := range cases {
		rmAssertOneLine(t, rmRun(c.args...), 2, c.want)
	}
}

func TestMergeAndReportBadInput(t *testing.T) {
	root, _, _ := rmFixture(t)
	a, b := filepath.Join(root, "drivers", "a"), filepath.Join(root, "drivers", "b")
	rmAssertOneLine(t, rmRun("merge", a, filepath.Join(root, "matrix", "orders-vault"), "--out", filepath.Join(root, "m1")), 1, "different workloads")
	rmAssertOneLine(t, rmRun("report", filepath.Join(root, "nope")), 1, filepath.Join(root, "nope"))
	corrupt := []struct{ file, content string }{
		{"transfer.hlog", "#[BaseTime: 0]\n0.0,1.0,2.0,HISTFAAAACl42pJpmSzMwMCgyQAB\n"},
		{results.TicksFile, "{\"time\":\"2026-03-01T12:00:01Z\",\"interval_s\":1}\n{\"time\":\n"},
		{results.SummaryFile, "{\"version\":1,\"workload\":\"bank\",\"ops\":[{\"op\":"},
		{results.HandshakeFile, "Tag=tls,0.0,1.0,2.0,HISTFAAAAB3%%%\n"},
	}
	for _, c := range corrupt {
		path := filepath.Join(b, c.file)
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		rmAssertOneLine(t, rmRun("merge", a, b, "--out", filepath.Join(root, "m-"+c.file)), 1, path)
		if c.file == results.TicksFile || c.file == results.SummaryFile {
			rmAssertOneLine(t, rmRun("report", a, b, "--out", filepath.Join(root, "r.html")), 1, path)
		}
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// chromium returns the path of Debian's chromium. Without it the test
// fails under CI and is skipped elsewhere.
func chromium(t *testing.T) string {
	p, err := exec.LookPath("chromium")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: `apt-get install -y chromium` (make deps installs it)")
	}
	t.Skip("chromium is not installed: `apt-get install -y chromium` to run this test")
	return ""
}

// runChromium runs headless chromium on the report with no network and a
// fresh profile, with extra (--screenshot or --dump-dom), and returns its
// standard output.
func runChromium(t *testing.T, bin, report string, extra string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), extra, "--window-size=1400,3000", "file://"+report)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", extra, err, lastLines(stderr.String(), 10))
	}
	return stdout.Bytes()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestReportInHeadlessChromium(t *testing.T) {
	bin := chromium(t)
	root, _, _ := rmFixture(t)
	if o := rmRun("merge", filepath.Join(root, "drivers"), "--out", filepath.Join(root, "matrix", "bank-cert")); o.code != 0 {
		t.Fatalf("merge: %s", o.stderr)
	}
	o := rmRun("report", filepath.Join(root, "matrix"))
	want := filepath.Join(root, "matrix", "report.html") // next to the first run
	if o.code != 0 || !strings.Contains(o.stdout, "report of 3 run(s): "+want) {
		t.Fatalf("report: exit %d\nstdout %s\nstderr %s", o.code, o.stdout, o.stderr)
	}
	shot := filepath.Join(t.TempDir(), "report.png")
	runChromium(t, bin, want, "--screenshot="+shot)
	checkScreenshot(t, shot)
	if keep := os.Getenv("AUTHBENCH_REPORT_SCREENSHOT"); keep != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(keep, b, 0o644)
	}
	checkRenderedCharts(t, runChromium(t, bin, want, "--dump-dom"))
}

// checkRenderedCharts asserts that the DOM chromium built holds every chart
// of every run and that each drew data.
func checkRenderedCharts(t *testing.T, dom []byte) {
	t.Helper()
	svgs := regexp.MustCompile(`(?s)<svg class="chart ([a-z]+)" id="([^"]+)".*?</svg>`).FindAllSubmatch(dom, -1)
	kinds := map[string]int{}
	for _, m := range svgs {
		kind, id := string(m[1]), string(m[2])
		kinds[kind]++
		if n := dataElements(t, m[0]); n == 0 {
			t.Errorf("chart %s (%s) drew no data", id, kind)
		}
	}
	// 3 runs: a throughput and a retries chart each, one latency chart per
	// op (1 + 1 + 2), one handshake chart for all.
	want := map[string]int{"throughput": 3, "latency": 4, "retries": 3, "handshake": 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s charts in the rendered DOM, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	if got := strings.Count(string(dom), `class="event rotation"`); got < 3+1 {
		t.Errorf("%d rotation markers drawn, want at least one per rotation in the throughput charts (4)", got)
	}
}

// dataElements counts drawn series (paths with at least one segment) and
// bars of non-zero height in one chart.
func dataElements(t *testing.T, chart []byte) int {
	d := xml.NewDecoder(bytes.NewReader(chart))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	n := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("rendered chart does not parse: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attrs := map[string]string{}
		for _, a := range se.Attr {
			attrs[a.Name.Local] = a.Value
		}
		class := " " + attrs["class"] + " "
		switch {
		case se.Name.Local == "path" && strings.Contains(class, " series ") && strings.Contains(attrs["d"], "L"):
			n++
		case se.Name.Local == "rect" && strings.Contains(class, " bar "):
			if h, _ := strconv.ParseFloat(attrs["height"], 64); h > 0 {
				n++
			}
		}
	}
}

// checkScreenshot asserts that the page was painted: a 1400×3000 picture,
// not blank, showing the series blue and the rotation red.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1400 || b.Dy() != 3000 {
		t.Errorf("screenshot is %dx%d, want 1400x3000", b.Dx(), b.Dy())
	}
	counts := colourCounts(img, map[string][3]int{"blue": {0x00, 0x72, 0xB2}, "red": {0xC0, 0x00, 0x00}})
	if counts["ink"] < img.Bounds().Dx()*img.Bounds().Dy()/50 {
		t.Errorf("screenshot is nearly blank: %d non-white pixels", counts["ink"])
	}
	if counts["blue"] < 200 || counts["red"] < 20 {
		t.Errorf("screenshot lacks the charts' colours: %v", counts)
	}
}

// colourCounts counts pixels near each named colour, and every pixel that
// is not near white or the page background ("ink").
func colourCounts(img image.Image, want map[string][3]int) map[string]int {
	out := map[string]int{}
	near := func(r, g, b int, c [3]int, tol int) bool {
		return rmAbs(r-c[0]) <= tol && rmAbs(g-c[1]) <= tol && rmAbs(b-c[2]) <= tol
	}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r32, g32, b32, _ := img.At(x, y).RGBA()
			r, g, b := int(r32>>8), int(g32>>8), int(b32>>8)
			if !near(r, g, b, [3]int{255, 255, 255}, 8) && !near(r, g, b, [3]int{0xf6, 0xf7, 0xf9}, 4) {
				out["ink"]++
			}
			for name, c := range want {
				if near(r, g, b, c, 24) {
					out[name]++
				}
			}
		}
	}
	return out
}

func rmAbs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
