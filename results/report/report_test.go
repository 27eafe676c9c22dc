package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/results/report/reporttest"
)

// matrix writes a matrix-like directory with two runs: bank with cert
// (a rotation) and bank with password, and returns its path.
func matrix(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	specs := map[string]reporttest.Spec{
		"bank-cert":     {Auth: "cert", Seconds: 15, Warmup: 2, Rotate: []int{7}, Seed: 1},
		"bank-password": {Auth: "password", Seconds: 12, Seed: 2, Rate: 150},
	}
	for name, sp := range specs {
		if _, err := reporttest.Write(filepath.Join(root, name), sp); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func render(t *testing.T, paths ...string) string {
	t.Helper()
	runs, err := Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, runs, Options{Now: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// element is a parsed SVG element, enough to check what a chart drew.
type element struct {
	name  string
	attrs map[string]string
	kids  []*element
}

// charts parses every <svg class="chart ..."> of page, keyed by its id.
func charts(t *testing.T, page string) map[string]*element {
	t.Helper()
	out := map[string]*element{}
	for _, m := range regexp.MustCompile(`(?s)<svg class="chart.*?</svg>`).FindAllString(page, -1) {
		root := parseXML(t, m)
		out[root.attrs["id"]] = root
	}
	return out
}

func parseXML(t *testing.T, s string) *element {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	var stack []*element
	var root *element
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root
		}
		if err != nil {
			t.Fatalf("chart is not well-formed: %v\n%s", err, s)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			e := &element{name: tk.Name.Local, attrs: map[string]string{}}
			for _, a := range tk.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, e)
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// find returns every descendant of e named name whose class has cls.
func (e *element) find(name, cls string) []*element {
	var out []*element
	for _, k := range e.kids {
		if k.name == name && (cls == "" || hasClass(k.attrs["class"], cls)) {
			out = append(out, k)
		}
		out = append(out, k.find(name, cls)...)
	}
	return out
}

func hasClass(attr, cls string) bool {
	for _, c := range strings.Fields(attr) {
		if c == cls {
			return true
		}
	}
	return false
}

func TestReportDrawsEveryChartWithData(t *testing.T) {
	page := render(t, matrix(t))
	cs := charts(t, page)
	for _, id := range []string{"throughput-0", "throughput-1", "latency-0-s-transfer", "latency-1-s-transfer", "retries-0", "retries-1", "handshake"} {
		if cs[id] == nil {
			t.Fatalf("chart %s missing; have %v", id, keys(cs))
		}
	}
	for _, id := range []string{"throughput-0", "latency-0-s-transfer"} {
		series := cs[id].find("path", "series")
		if len(series) == 0 {
			t.Fatalf("%s has no series", id)
		}
		for _, p := range series {
			if n := strings.Count(p.attrs["d"], "L"); n < 8 {
				t.Errorf("%s series %q has %d segments, want one per second", id, p.attrs["class"], n)
			}
		}
	}
	// bank-cert is run 0 (sorted by directory name): one rotation, labelled.
	if rot := cs["throughput-0"].find("g", "rotation"); len(rot) != 1 || len(rot[0].find("text", "event-label")) != 1 {
		t.Errorf("throughput-0: %d rotation markers, want 1 labelled", len(rot))
	}
	if len(cs["throughput-1"].find("g", "rotation")) != 0 {
		t.Error("throughput-1 shows a rotation the run did not have")
	}
	if len(cs["throughput-0"].find("rect", "warmup")) != 2 || len(cs["throughput-0"].find("rect", "error-mark")) == 0 {
		t.Error("throughput-0 lacks its warm-up shading or error marks")
	}
	// handshake: 2 runs × 6 phases, each a p99 back bar and a p50 bar.
	if bars := cs["handshake"].find("rect", "phase"); len(bars) != 24 {
		t.Errorf("handshake has %d phase bars, want 24", len(bars))
	}
	if bars := cs["retries-0"].find("rect", "bar"); len(bars) != 3 || bars[1].attrs["height"] == "0.0" {
		t.Errorf("retries-0 bars %v", bars)
	}
}

func keys(m map[string]*element) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestReportSummaryTableAndMarkdown(t *testing.T) {
	root := matrix(t)
	runs, err := Load([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	rows := Rows(runs)
	if len(rows) != 2 || rows[0].Run != "bank / cert" || rows[1].Run != "bank / password" {
		t.Fatalf("rows %+v", rows)
	}
	s := runs[0].Summary.Op("transfer")
	if r := rows[0]; r.OpsPerSec != s.OpsPerSec || r.P99 != s.Latency.P99 || r.Retries != s.Retries || r.Errors != s.Errors || r.Rotations != 1 || r.WorstDip >= 1 {
		t.Errorf("row %+v does not match summary %+v", r, s)
	}
	md := Markdown(rows)
	lines := strings.Split(strings.TrimSpace(md), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "| run | op | ops/s |") || !strings.Contains(lines[1], "---:") {
		t.Errorf("markdown:\n%s", md)
	}
	page := render(t, root)
	if !strings.Contains(page, "<table class=\"summary\">") || !strings.Contains(page, "| bank / cert | transfer |") {
		t.Error("page lacks the summary table or its Markdown")
	}
}

func TestReportIsSelfContainedAndEscaped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "x")
	if _, err := reporttest.Write(dir, reporttest.Spec{Workload: `bank<script>alert(1)</script>`, Seconds: 3}); err != nil {
		t.Fatal(err)
	}
	page := render(t, dir)
	if strings.Contains(page, "<script") {
		t.Error("a label from summary.json reached the page unescaped")
	}
	for _, ref := range []string{"http://", "https://", "src=", "@import", "url("} {
		for _, line := range strings.Split(page, "\n") {
			if strings.Contains(line, ref) && !strings.Contains(line, `xmlns="http://www.w3.org/2000/svg"`) {
				t.Errorf("page refers to something outside itself: %q", line)
			}
		}
	}
	charts(t, page) // every chart parses as XML
}

func TestLoadExpandsAndLabels(t *testing.T) {
	root := matrix(t)
	runs, err := Load([]string{filepath.Join(root, "bank-cert"), root})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2 (the repeated directory once)", len(runs))
	}
	same := []Run{{Dir: "/a/r1", Label: "bank / cert"}, {Dir: "/b/r1", Label: "bank / cert"}, {Dir: "/c/r2", Label: "bank / cert"}}
	uniqueLabels(same)
	if same[0].Label == same[1].Label || same[1].Label == same[2].Label || same[2].Label != "bank / cert (r2)" {
		t.Errorf("labels %q %q %q", same[0].Label, same[1].Label, same[2].Label)
	}
}

func TestLoadBadInputIsOneLineNamingTheFile(t *testing.T) {
	cases := map[string]string{
		results.SummaryFile: `{"version":1,"workload":"bank",`,
		results.TicksFile:   "{\"time\":\"2026-01-01T00:00:00Z\",\"interval_s\":1}\nnot json\n",
	}
	for file, content := range cases {
		t.Run(file, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if _, err := reporttest.Write(dir, reporttest.Spec{Seconds: 2}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, file)
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			assertOneLine(t, dir, path)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			assertOneLine(t, dir, path)
		})
	}
}

func assertOneLine(t *testing.T, dir, path string) {
	t.Helper()
	_, err := Load([]string{dir})
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want one line naming %s", err, path)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		hi   float64
		n    int
		top  float64
		want int
	}{{97, 5, 100, 6}, {3109, 5, 4000, 5}, {0, 5, 1, 6}, {0.004, 5, 0.004, 5}} {
		ticks, top := niceTicks(c.hi, c.n)
		if top < c.hi || len(ticks) != c.want || ticks[0] != 0 {
			t.Errorf("niceTicks(%v) = %v, top %v", c.hi, ticks, top)
		}
	}
}

func TestReportSurvivesOddValues(t *testing.T) {
	start := time.Unix(1e9, 0)
	odd := []Run{
		{Dir: "/x/empty", Label: "bank / cert", Summary: &results.Summary{Workload: "bank"}},
		{Dir: "/x/odd", Label: "bank / odd", Summary: &results.Summary{
			Workload: "bank", DurationS: -3,
			Ops:       []results.OpSummary{{Op: "transfer", Count: -5, OpsPerSec: 1e300, Retries: -1, Latency: results.Percentiles{P99: 1e308}}},
			Handshake: map[string]results.Percentiles{"tls": {P50: -1, P99: 1e308}, "weird phase": {}},
			Events:    []results.Event{{Elapsed: -10, Kind: "rotation", Rotation: true}, {Elapsed: 1e12, Kind: "retire"}},
		}, Ticks: []results.Tick{
			{Time: start, Elapsed: -2, IntervalS: 1, Ops: []results.OpTick{{Op: "transfer", Count: 1, OpsPerSec: -4, P99: 1e308}}},
			{Time: start, Elapsed: 1e9, IntervalS: 1, Ops: []results.OpTick{{Op: "other", Count: 1, OpsPerSec: 1e308, P50: 3}}},
		}},
	}
	var b bytes.Buffer
	if err := Write(&b, odd, Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"NaN", "Inf"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %s", bad)
		}
	}
	if cs := charts(t, page); len(cs) < 6 {
		t.Errorf("%d charts, want every chart drawn", len(cs))
	}
}

func TestReportShowsFaultsRetriesAndUnknownOutcomes(t *testing.T) {
	runs, err := Load([]string{matrix(t)})
	if err != nil {
		t.Fatal(err)
	}
	s := runs[0].Summary
	s.Faults = []results.RotationImpact{{Elapsed: 5, Kind: "errors-began", Source: "driver", Detail: "connection 3",
		Dip: 0.2, BaselineOps: 100, WorstOps: 20, ErrorsWindow: 3, RecoveryS: 2}}
	s.Errors = map[string]int64{"connection": 6}
	s.Retried = map[string]int64{"connection": 4, "auth": 2}
	s.Total.Ambiguous = 1
	var b strings.Builder
	if err := Write(&b, runs, Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"<h3>Faults (errors after a clean period)</h3>",
		`<table class="impact faults">`,
		`<td class="text">errors-began driver connection 3</td><td>0.20 (100 → 20 ops/s)</td><td>3</td><td>2 s</td>`,
		"<tr><td>auth</td><td>0</td><td>2</td></tr><tr><td>connection</td><td>6</td><td>4</td></tr>",
		"Ambiguous commits (the COMMIT reply was lost, the outcome is unknown): 1",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(page, "<h3>Faults"); n != 1 {
		t.Errorf("%d fault tables, want 1 (only the run that had one)", n)
	}
}
