package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/postgres"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/stack/vault"
	"github.com/authbench/authbench/stack/vault/vaulttest"
)

// TestFleetVaultRotationStorm runs a fleet of 20 instances × 10
// connections with vault, each instance with its own login and lease:
// once with a synchronised forced rotation, once with one spread over 8 s.
// Both are recorded for every instance, no transaction fails, the bank
// holds its money, and the synchronised rotation opens more connections in
// its busiest second than the spread one.
func TestFleetVaultRotationStorm(t *testing.T) {
	vaulttest.Servers(t, func(t *testing.T, srv vaulttest.Server) {
		vaulttest.OnceOnReal(t, srv) // one server is enough: the storm is the fleet's
		st := stacktest.Start(t, func(c *stack.Config) {
			// Leases outlive the runs: the forced rotations are the only ones.
			vault.Enable(c, vault.Settings{Server: srv.Server, DefaultTTL: 5 * time.Minute, MaxTTL: 10 * time.Minute})
		})
		c := newCLI(t, st)
		c.mustRun("init", "bank", "--accounts", "500", "--initial-balance", "1000")
		peak := map[string]int64{}
		for _, spread := range []string{"0s", "8s"} {
			dir := filepath.Join(t.TempDir(), "spread-"+spread)
			c.mustRun("run", "bank", "--auth", "vault", "--vault-retire-jitter", "0s",
				"--instances", "20", "--pool-size", "10", "--concurrency", "20", "--max-rate", "100",
				"--duration", "16s", "--rotate-every", "5s", "--rotate-spread", spread,
				"--metrics-addr", "", "--out", dir)
			c.mustRun("check", "bank", "--run", dir)
			s := readSummary(t, dir)
			if s.Instances != 20 {
				t.Errorf("spread %s: summary says %d instances, want 20", spread, s.Instances)
			}
			if n := vaultFailed(s); n != 0 {
				t.Errorf("spread %s: %d failed transactions (errors %v)", spread, n, s.Errors)
			}
			if got := instancesRotated(s); len(got) != 20 {
				t.Errorf("spread %s: instances with a recorded rotation: %v, want all 20", spread, got)
			}
			if len(s.Rotations) == 0 {
				t.Fatalf("spread %s: no rotation row", spread)
			}
			r := s.Rotations[0]
			t.Logf("spread %s: first rotation: peak %d conn/s, handshake p99 %.1f ms, %d instances (%.0f%%) by the window's end",
				spread, r.PeakConnectsS, r.HandshakeP99, r.InstancesRotated, 100*r.InstancesShare)
			if r.InstancesRotated != 20 || r.InstancesShare != 1 {
				t.Errorf("spread %s: %d instances (share %.2f) rotated within the window, want all 20", spread, r.InstancesRotated, r.InstancesShare)
			}
			peak[spread] = r.PeakConnectsS
		}
		if peak["0s"] <= peak["8s"] {
			t.Errorf("peak connects/s: synchronised %d, spread over 8s %d; want the synchronised storm higher", peak["0s"], peak["8s"])
		}
	})
}

// instancesRotated returns the instances with an InstanceRotated event.
func instancesRotated(s *results.Summary) map[int]int {
	got := map[int]int{}
	for _, e := range s.Events {
		if e.Kind == results.InstanceRotated && e.Instance > 0 {
			got[e.Instance]++
		}
	}
	return got
}

// fleetOpen is the line a fleet run prints once every connection is open.
var fleetOpen = regexp.MustCompile(`fleet of (\d+) instances × (\d+) connections open \((\d+)\)`)

// TestFleetHoldsTwoThousandCertConnections: a stack up with
// --max-connections 2100 holds a fleet of 100 instances × 20 cert
// connections for 30 s: every one opens, PostgreSQL counts them, nothing
// fails.
func TestFleetHoldsTwoThousandCertConnections(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Max < 2*2100+100 {
		t.Skipf("the open-file hard limit (ulimit -Hn) is %d: HAProxy needs %d for 2,100 connections; raise it to run this test", lim.Max, 2*2100+100)
	}
	st := stacktest.Start(t, func(c *stack.Config) {
		c.Enable(postgres.Name, postgres.Settings{MaxConnections: 2100})
	})
	c := newCLI(t, st)
	if o := c.mustRun("stack", "status", "--dir", st.Dir); !regexp.MustCompile(`max_connections=2100`).MatchString(o.stdout) ||
		!regexp.MustCompile(`maxconn=2100`).MatchString(o.stdout) {
		t.Errorf("stack status does not show the limits:\n%s", o.stdout)
	}
	c.mustRun("init", "bank", "--accounts", "500")
	dir := filepath.Join(t.TempDir(), "run")
	r := startRunFor(t, c, 4*time.Minute, "run", "bank", "--auth", "cert", "--instances", "100", "--pool-size", "20",
		"--concurrency", "10", "--max-rate", "20", "--duration", "30s", "--metrics-addr", "", "--out", dir)
	if m := waitMatch(t, r, fleetOpen); m[3] != "2000" {
		t.Fatalf("fleet opened %s connections, want 2000", m[3])
	}
	user, _ := st.FirstUser(stack.MethodCert)
	var n int
	err := stacktest.Admin(t, st).QueryRow(context.Background(),
		"SELECT count(*) FROM pg_stat_activity WHERE usename = $1", user.Name).Scan(&n)
	if err != nil || n < 2000 {
		t.Errorf("pg_stat_activity counts %d sessions of %s (err %v), want 2000", n, user.Name, err)
	}
	o := r.result()
	if o.code != 0 {
		t.Fatalf("run failed (exit %d): %s", o.code, o.stderr)
	}
	s := readSummary(t, dir)
	if s.Connections.Failed != 0 || s.Connections.Opened < 2000 || s.Total.Errors != 0 {
		t.Errorf("connections opened %d, failed %d, failed transactions %d; want ≥ 2000, 0, 0",
			s.Connections.Opened, s.Connections.Failed, s.Total.Errors)
	}
	ticks, err := results.ReadTicks(filepath.Join(dir, results.TicksFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range ticks {
		if tk.OpenConns < 2000 || tk.ConnFailures != 0 {
			t.Errorf("second ending %.1fs: %d open connections, %d failures; want 2000 held, none failed", tk.Elapsed, tk.OpenConns, tk.ConnFailures)
		}
	}
	t.Logf("2000 cert connections held for %s s", strconv.FormatFloat(s.DurationS, 'f', 0, 64))
}
