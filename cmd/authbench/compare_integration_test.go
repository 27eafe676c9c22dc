package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/kdc"
	"github.com/authbench/authbench/stack/spiffe"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/stack/vault"
)

// allModes are the auth modes the local stack serves.
var allModes = []string{"password", "cert", "gssapi", "spiffe", "vault"}

// TestCompareAgainstStack covers issue 7 on one stack with every auth mode:
// handshake phases per mode, per-transaction connections, forced rotations
// in every mode, and the matrix table.
func TestCompareAgainstStack(t *testing.T) {
	stacktest.RequireSPIRE(t)
	st := stacktest.Start(t, func(c *stack.Config) {
		kdc.Enable(c, kdc.Settings{})
		spiffe.Enable(c, spiffe.Settings{})
		vault.Enable(c, vault.Settings{})
	})
	c := newCLI(t, st)
	c.mustRun("init", "bank", "--accounts", "2000", "--initial-balance", "1000000")
	t.Run("handshake-phases", func(t *testing.T) { testHandshakePhases(c.with(t)) })
	t.Run("per-txn", func(t *testing.T) { testPerTxn(c.with(t)) })
	t.Run("rotate-every", func(t *testing.T) { testRotateEvery(c.with(t)) })
	t.Run("matrix", func(t *testing.T) { testMatrix(c.with(t)) })
}

// testHandshakePhases: for each mode every connection records every phase,
// and the phases add up to the total (compared on means, which add). The
// phases are contiguous by construction (each ends where the next begins,
// the last at ReadyForQuery) and the total ends a little later, once pgx
// hands the connection over: the sum can only fall short of the total, by
// the time spent between ReadyForQuery and that hand-over, which a busy
// machine may stretch. It can exceed it only by the histograms' rounding
// (3 significant digits, whole microseconds, at least 1 µs per phase).
func testHandshakePhases(c *cli) {
	t := c.t
	const count = 30
	for _, mode := range allModes {
		dir := filepath.Join(t.TempDir(), mode)
		c.mustRun("handshake", "--auth", mode, "--count", "30", "--concurrency", "2", "--out", dir, "--metrics-addr", "")
		s := readSummary(t, dir)
		if s.Connections.Opened != count || s.Command != "handshake" {
			t.Errorf("%s: %d connections opened, command %q; want %d, handshake", mode, s.Connections.Opened, s.Command, count)
		}
		var sum float64
		for _, phase := range []string{"credential", "tcp", "tls", "auth", "ready"} {
			p, ok := s.Handshake[phase]
			if !ok || p.Count != count {
				t.Errorf("%s: phase %s recorded %d times, want %d", mode, phase, p.Count, count)
			}
			sum += p.Mean
		}
		total := s.Handshake["total"]
		if total.Mean <= 0 || sum > 1.01*total.Mean+0.01 || sum < 0.5*total.Mean {
			t.Errorf("%s: phases add up to %.3f ms, total is %.3f ms; want the sum within [50 %%, 101 %%] of the total", mode, sum, total.Mean)
		}
		if s.Handshake["tls"].Mean <= 0 || s.Handshake["auth"].Mean <= 0 {
			t.Errorf("%s: tls %.3f ms, auth %.3f ms: both must take time", mode, s.Handshake["tls"].Mean, s.Handshake["auth"].Mean)
		}
	}
}

// testPerTxn: --conn-mode per-txn opens one connection per transaction.
func testPerTxn(c *cli) {
	t := c.t
	dir := filepath.Join(t.TempDir(), "run")
	c.mustRun("run", "bank", "--auth", "cert", "--conn-mode", "per-txn", "--concurrency", "2", "--duration", "2s", "--out", dir, "--metrics-addr", "")
	s := readSummary(t, dir)
	tr := s.Op("transfer")
	var outcomes int64
	for _, n := range tr.Outcomes {
		outcomes += n
	}
	if txns := tr.Committed + tr.Errors + outcomes; s.Connections.Opened != txns || txns == 0 {
		t.Errorf("per-txn opened %d connections for %d transactions", s.Connections.Opened, txns)
	}
	c.mustRun("check", "bank", "--run", dir)
}

// testRotateEvery: a forced rotation every 8 s for 35 s, in every mode at
// once: at least 3 rotations each (4 are due; the third is due 11 s before
// the end), no failed transaction, invariants hold. The connections are
// recycled every 4-5 s, so some open inside a rotation's window (a new
// password set but its file not yet written): the driver retries those.
func testRotateEvery(c *cli) {
	t := c.t
	var wg sync.WaitGroup
	dirs := map[string]string{}
	for _, mode := range allModes {
		dirs[mode] = filepath.Join(t.TempDir(), mode)
		wg.Add(1)
		go func(mode string) {
			defer wg.Done()
			o := c.run("run", "bank", "--auth", mode, "--rotate-every", "8s", "--duration", "35s", "--concurrency", "3",
				"--max-conn-lifetime", "4s", "--max-conn-lifetime-jitter", "1s", "--out", dirs[mode], "--quiet", "--metrics-addr", "")
			if o.code != 0 {
				t.Errorf("%s: exit %d: %s", mode, o.code, o.stderr)
			}
		}(mode)
	}
	wg.Wait()
	for _, mode := range allModes {
		s, err := results.ReadSummary(dirs[mode])
		if err != nil {
			t.Errorf("%s: %v", mode, err)
			continue
		}
		t.Logf("%s: %d rotations, %d failed transactions, retried attempts by class %v", mode, len(s.Rotations), s.Total.Errors, s.Retried)
		if len(s.Rotations) < 3 || s.Total.Errors != 0 {
			t.Errorf("%s: %d rotations, %d failed transactions; want ≥ 3 and 0 (events %+v)", mode, len(s.Rotations), s.Total.Errors, s.Events)
		}
		c.mustRun("check", "bank", "--run", dirs[mode])
	}
}

// testMatrix: a short matrix over two modes writes one row per combination;
// a mode's flag reaches that mode's runs only.
func testMatrix(c *cli) {
	t := c.t
	dir := filepath.Join(t.TempDir(), "matrix")
	pwFile := filepath.Join(t.TempDir(), "password") // not the default, so the run shows it got the flag
	if err := os.WriteFile(pwFile, []byte(readFile(t, c.envValue("AUTHBENCH_PASSWORD_FILE"))), 0o600); err != nil {
		t.Fatal(err)
	}
	o := c.mustRun("matrix", "--init=false", "--workloads", "bank", "--auth", "password,cert", "--duration", "2s", "--ramp", "0s", "--out", dir, "--metrics-addr", "",
		"--password-file", pwFile)
	if got := readSummary(t, filepath.Join(dir, "bank-password")).Config["password-file"]; got != pwFile {
		t.Errorf("the password run got --password-file %q, want %q", got, pwFile)
	}
	assertAuthSettings(t, filepath.Join(dir, "bank-cert"), "cert")
	md, err := os.ReadFile(filepath.Join(dir, "matrix.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(md)), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], "| bank | password |") || !strings.HasPrefix(lines[3], "| bank | cert |") {
		t.Errorf("matrix.md:\n%s", md)
	}
	if !strings.Contains(o.stdout, "[2/2] bank / cert") {
		t.Errorf("matrix printed no progress:\n%s", o.stdout)
	}
}

// envValue is the value of the variable name in c's environment.
func (c *cli) envValue(name string) string {
	for _, e := range c.env {
		if v, ok := strings.CutPrefix(e, name+"="); ok {
			return v
		}
	}
	c.t.Fatalf("%s is not in the environment", name)
	return ""
}
