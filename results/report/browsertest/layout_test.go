package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/results/report"
	"github.com/authbench/authbench/results/report/reporttest"
)

// The laptop the report is checked on: its viewport in CSS pixels.
const (
	viewportW = 1280
	viewportH = 800
)

// chromiumPath is Debian's Chromium, which `make deps` installs.
const chromiumPath = "/usr/bin/chromium"

// pageTimeout bounds loading the page and each check.
const pageTimeout = 2 * time.Minute

// writeLaptopReport writes the report of a matrix of the bank and orders
// workloads over the five auth modes, and of a bank run with two faults,
// and returns its path and the faulted run's summary.
func writeLaptopReport(t *testing.T) (string, *results.Summary) {
	t.Helper()
	root := t.TempDir()
	dirs, err := reporttest.WriteMatrix(filepath.Join(root, "matrix"))
	if err != nil {
		t.Fatal(err)
	}
	faulty := filepath.Join(root, "bank-password-faults")
	s, err := reporttest.Write(faulty, reporttest.Spec{Auth: "password", Seconds: 30, Warmup: 2, Faults: []int{8, 18}, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Faults) != 2 || s.Total.Ambiguous == 0 || len(s.Retried) == 0 {
		t.Fatalf("the faulted run has %d faults, %d ambiguous commits, retried %v: want 2, some, some", len(s.Faults), s.Total.Ambiguous, s.Retried)
	}
	runs, err := report.Load(append(dirs, faulty))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "report.html")
	if err := report.WriteFile(path, runs, report.Options{}); err != nil {
		t.Fatal(err)
	}
	return path, s
}

// browser starts a headless Chromium with a fresh profile and a laptop's
// window, and returns a context that runs actions in one tab of it.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s: %v: run `make deps` (or apt-get install chromium)", chromiumPath, err)
	}
	var out bytes.Buffer
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(viewportW, viewportH), chromedp.CombinedOutput(&out),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) { cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) }))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v\n%s", chromiumPath, err, out.String())
	}
	return ctx
}

// overflowJS lists every table and chart that sticks out of its card, the
// <section> around it: its visible box is its own, or that of the nearest
// ancestor inside the card that scrolls it. It also says when the page
// itself scrolls sideways.
const overflowJS = `(() => {
  const out = [];
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className.baseVal ?? el.className ? "." + String(el.className.baseVal ?? el.className).trim().replace(/\s+/g, ".") : "");
  for (const el of document.querySelectorAll("table, svg.chart")) {
    const card = el.closest("section");
    if (!card) { out.push(name(el) + " is not in a card"); continue; }
    let box = el;
    for (let a = el.parentElement; a && a !== card; a = a.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(a).overflowX)) { box = a; break; }
    }
    const r = box.getBoundingClientRect(), c = card.getBoundingClientRect();
    if (r.left < c.left - 0.5 || r.right > c.right + 0.5) {
      out.push(name(el) + " in " + card.id + ": " + Math.round(r.left) + ".." + Math.round(r.right) + " outside the card's " + Math.round(c.left) + ".." + Math.round(c.right));
    }
  }
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth) out.push("the page scrolls sideways: " + doc.scrollWidth + " px wide in a " + doc.clientWidth + " px window");
  return out;
})()`

// overlapJS lists, in every chart, pairs of labels of one kind whose
// outlines overlap: tick labels, group labels, legend labels, event labels,
// bar values. A label's outline is its box in its own coordinates mapped
// to the chart's, so rotated labels are compared as drawn (their upright
// bounding boxes would overlap while their glyphs do not), by the
// separating axis test for two convex quadrilaterals.
const overlapJS = `(() => {
  const outline = e => {
    const b = e.getBBox(), m = e.getCTM(), p = e.ownerSVGElement.createSVGPoint();
    return [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]].map(([x, y]) => {
      p.x = x; p.y = y; const q = p.matrixTransform(m); return [q.x, q.y];
    });
  };
  const separated = (a, b) => [a, b].some(poly => poly.some((p, i) => {
    const q = poly[(i + 1) % poly.length], nx = q[1] - p[1], ny = p[0] - q[0], len = Math.hypot(nx, ny) || 1;
    const proj = pts => pts.map(([x, y]) => (x * nx + y * ny) / len);
    const pa = proj(a), pb = proj(b);
    return Math.max(...pa) <= Math.min(...pb) + 0.5 || Math.max(...pb) <= Math.min(...pa) + 0.5;
  }));
  const out = [];
  for (const svg of document.querySelectorAll("svg.chart")) {
    for (const kind of ["tick-label", "group-label", "legend-label", "event-label", "bar-value"]) {
      const labels = [...svg.querySelectorAll("text." + kind)].map(e => [e.firstChild ? e.firstChild.textContent : "", outline(e)]);
      for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) {
        if (!separated(labels[i][1], labels[j][1])) out.push(svg.id + ": " + kind + " \"" + labels[i][0] + "\" overlaps \"" + labels[j][0] + "\"");
      }
    }
  }
  return out;
})()`

// scrolledJS names the tables that need their card's scroll bar.
const scrolledJS = `[...document.querySelectorAll(".scroll")].filter(d => d.scrollWidth > d.clientWidth + 1).map(d => d.firstElementChild.className)`

// faultTableJS returns the rows of the fault table of the faulted run, the
// last section: event and recovery.
const faultTableJS = `[...document.querySelectorAll("#run-10 table.faults tbody tr")].map(tr => [tr.cells[1].textContent, tr.cells[4].textContent])`

func TestReportFitsALaptop(t *testing.T) {
	path, faulted := writeLaptopReport(t)
	ctx := browser(t)
	u := url.URL{Scheme: "file", Path: path}
	step, cancel := context.WithTimeout(ctx, pageTimeout)
	defer cancel()
	if err := chromedp.Do(step, chromedp.EmulateViewport(viewportW, viewportH), chromedp.Navigate(u.String())); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ what, js string }{{"overflow", overflowJS}, {"overlap", overlapJS}} {
		problems, err := chromedp.Run(step, chromedp.Evaluate[[]string](c.js))
		if err != nil {
			t.Fatalf("%s check: %v", c.what, err)
		}
		for _, p := range problems {
			t.Error(p)
		}
	}
	scrolled, err := chromedp.Run(step, chromedp.Evaluate[[]string](scrolledJS))
	if err != nil {
		t.Fatal(err)
	}
	if len(scrolled) > 0 {
		t.Logf("tables that scroll inside their card at %d px: %v", viewportW, scrolled)
	}
	checkFaultTable(t, step, faulted)
	screenshot(t, step)
}

// checkFaultTable wants the faulted run's two faults, each with its
// recovery time in the table and a line on the throughput chart, and its
// retried errors and ambiguous commits.
func checkFaultTable(t *testing.T, ctx context.Context, s *results.Summary) {
	t.Helper()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](faultTableJS))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows in the faulted run's fault table, want its 2 faults: %q", len(rows), rows)
	}
	for _, r := range rows {
		if !strings.Contains(r[0], "errors-began") || !strings.HasSuffix(r[1], " s") {
			t.Errorf("fault row %q: want an errors-began event and a recovery time in s", r)
		}
	}
	lines, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#throughput-10 g.event.fault").length`))
	if err != nil || lines != len(s.Faults) {
		t.Errorf("%d fault lines on the faulted run's throughput chart (%v), want %d", lines, err, len(s.Faults))
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("run-10").innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"failed attempts retried",
		fmt.Sprintf("connection\t%d\t%d", s.Errors["connection"], s.Retried["connection"]),
		fmt.Sprintf("auth\t%d\t%d", s.Errors["auth"], s.Retried["auth"]),
		fmt.Sprintf("Ambiguous commits (the COMMIT reply was lost, the outcome is unknown): %d", s.Total.Ambiguous),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the faulted run's section lacks %q", want)
		}
	}
}

// screenshot captures the first screen and checks it is the laptop's
// viewport; REPORT_SCREENSHOT names a file to keep it in.
func screenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(shot))
	if err != nil || cfg.Width != viewportW || cfg.Height != viewportH {
		t.Errorf("screenshot: %v, %dx%d, want a %dx%d PNG", err, cfg.Width, cfg.Height, viewportW, viewportH)
	}
	if dst := os.Getenv("REPORT_SCREENSHOT"); dst != "" {
		if err := os.WriteFile(dst, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the first screen: %s", dst)
	}
}
