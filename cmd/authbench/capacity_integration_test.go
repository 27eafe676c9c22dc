package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/capacity"
	"github.com/authbench/authbench/results/report/reporttest"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/kdc"
	"github.com/authbench/authbench/stack/stacktest"
)

// capacityTimeout bounds one search in the tests: longer than cli.run's,
// since a search is a dozen short runs.
const capacityTimeout = 5 * time.Minute

// runCapacitySearch runs `authbench capacity` with c's environment and
// fails the test unless it exits 0.
func runCapacitySearch(t *testing.T, c *cli, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), capacityTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, append([]string{"capacity"}, args...)...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("authbench capacity %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func readCapacity(t *testing.T, dir string) *capacity.File {
	t.Helper()
	f, ok, err := capacity.ReadFile(dir)
	if err != nil || !ok {
		t.Fatalf("capacity.json in %s: ok %v, %v", dir, ok, err)
	}
	return f
}

// TestCapacityAgainstStack searches two auth modes' transaction capacity
// and, with a connection per transaction, their connection capacity, on
// the real stack with short steps.
func TestCapacityAgainstStack(t *testing.T) {
	st := stacktest.Start(t, func(c *stack.Config) { kdc.Enable(c, kdc.Settings{}) })
	c := newCLI(t, st)
	// Balances large enough that no transfer is refused for lack of funds.
	c.mustRun("init", "bank", "--accounts", "1000", "--initial-balance", "1000000")
	short := []string{"--warmup", "1s", "--probe-duration", "2s", "--metrics-addr", ""}

	t.Run("transactions", func(t *testing.T) {
		c := c.with(t)
		dir := filepath.Join(t.TempDir(), "cap")
		out := runCapacitySearch(t, c, append([]string{"bank", "--auth", "cert,password", "--slo", "p99<=200ms,errors<=1%",
			"--step-duration", "4s", "--max-steps", "6", "--out", dir}, short...)...)
		f := readCapacity(t, dir)
		if len(f.Modes) != 2 || f.Unit != "tx/s" {
			t.Fatalf("capacity.json: %d modes, unit %q", len(f.Modes), f.Unit)
		}
		for _, m := range f.Modes {
			if m.Probe == nil || m.Result.Capacity <= 0 || m.Result.Capacity >= m.Probe.Achieved {
				t.Errorf("%s: capacity %g, want above zero and below its closed-loop probe (%+v)", m.Mode, m.Result.Capacity, m.Probe)
			}
			if len(m.Steps) > 6 {
				t.Errorf("%s: %d steps, --max-steps 6", m.Mode, len(m.Steps))
			}
			for _, want := range []string{m.Mode + " ", "probe", "step 1", "offered", "achieved", "result"} {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			for _, s := range append(m.Steps, *m.Probe) {
				c.mustRun("check", "bank", "--run", filepath.Join(dir, s.Dir))
			}
		}
		md, err := os.ReadFile(filepath.Join(dir, capacity.MarkdownFile))
		if err != nil || !strings.Contains(string(md), "| cert |") || !strings.Contains(out, "| password |") {
			t.Errorf("capacity.md / the printed table lack a row per mode: %v\n%s", err, md)
		}
		c.mustRun("report", dir, "--out", filepath.Join(dir, "report.html"))
		page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
		for _, want := range []string{`id="capacity-latency-0"`, `id="capacity-achieved-0"`, "series s-cert p99", "series s-password p99", `class="objective s-p99"`} {
			if !bytes.Contains(page, []byte(want)) {
				t.Errorf("report lacks %s", want)
			}
		}
	})

	t.Run("connections", func(t *testing.T) {
		c := c.with(t)
		dir := filepath.Join(t.TempDir(), "cap")
		out := runCapacitySearch(t, c, append([]string{"bank", "--auth", "cert,gssapi", "--conn-mode", "per-txn", "--slo", "p99<=500ms",
			"--step-duration", "2s", "--max-steps", "3", "--out", dir}, short...)...)
		f := readCapacity(t, dir)
		if f.ConnMode != "per-txn" || f.Unit != "conn/s" || !strings.Contains(f.LatencyLabel, "handshake") {
			t.Errorf("capacity.json: conn mode %q, unit %q, latency %q", f.ConnMode, f.Unit, f.LatencyLabel)
		}
		for _, m := range f.Modes {
			// The capacity itself depends on the machine: a busy one may not
			// hold 500 ms handshakes at any rate three steps can reach, and
			// the search then says so.
			if m.Probe == nil || m.Probe.Achieved <= 0 || len(m.Steps) == 0 {
				t.Errorf("%s: probe %+v, %d steps: want connections per second measured", m.Mode, m.Probe, len(m.Steps))
			}
			if m.Result.Capacity <= 0 && m.Result.Status != capacity.NeverPassed && m.Result.Status != capacity.OutOfSteps {
				t.Errorf("%s: capacity 0 with status %s", m.Mode, m.Result.Status)
			}
			if !strings.Contains(out, m.Mode+" ") || !strings.Contains(out, "conn/s") {
				t.Errorf("stdout lacks %s's conn/s lines", m.Mode)
			}
			for _, s := range m.Steps {
				if s.Latency.P99 <= 0 {
					t.Errorf("%s step at %g: no handshake latency", m.Mode, s.Rate)
				}
			}
		}
		if !strings.Contains(out, "capacity (conn/s)") || !strings.Contains(out, "| gssapi |") {
			t.Errorf("stdout lacks the connections-per-second table:\n%s", out)
		}
	})

	t.Run("mode that cannot connect", func(t *testing.T) {
		c := c.with(t)
		dir := filepath.Join(t.TempDir(), "cap")
		o := c.run(append([]string{"capacity", "bank", "--auth", "cert,password", "--password-file", "/nonexistent/pw", "--out", dir}, short...)...)
		assertOneLineError(t, o, 1, "auth mode password", "/nonexistent/pw")
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("a step ran before the failing mode was found: %s exists", dir)
		}
	})
}

// TestCapacityReportInHeadlessChromium renders a capacity directory's
// report in Chromium: both capacity charts are drawn with data, and the
// screenshot shows the modes' and the objective's colours.
func TestCapacityReportInHeadlessChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	if _, err := reporttest.Capacity(dir, []string{"cert", "password"}, []float64{800, 450}, "p99<=50ms,errors<=0.1%"); err != nil {
		t.Fatal(err)
	}
	if o := rmRun("report", dir); o.code != 0 {
		t.Fatalf("report: exit %d: %s", o.code, o.stderr)
	}
	page := filepath.Join(dir, "report.html")
	shot := filepath.Join(t.TempDir(), "capacity.png")
	runChromium(t, bin, page, "--screenshot="+shot)
	checkScreenshot(t, shot)
	dom := runChromium(t, bin, page, "--dump-dom")
	for _, id := range []string{"capacity-latency-0", "capacity-achieved-0"} {
		i := bytes.Index(dom, []byte(`id="`+id+`"`))
		if i < 0 {
			t.Fatalf("rendered DOM lacks chart %s", id)
		}
		end := bytes.Index(dom[i:], []byte("</svg>"))
		if n := bytes.Count(dom[i:i+end], []byte("<circle")); n < 4 {
			t.Errorf("chart %s drew %d points", id, n)
		}
	}
}
