package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/faults"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/kdc"
	"github.com/authbench/authbench/stack/spiffe"
	"github.com/authbench/authbench/stack/spiffe/spire"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/stack/vault"
	"github.com/authbench/authbench/stack/vault/vaulttest"
)

// The fault tests' bank and credential lifetimes: short enough that the
// KDC's and the SPIRE agent's outages bite within seconds.
const (
	faultAccounts   = 2000
	faultBalance    = 1000
	faultTicketLife = 10 * time.Second
	faultSVIDTTL    = spiffe.MinTTL
)

// TestFaultsAgainstStack runs the bank through the faults users' clusters
// have, one after another on one stack with every auth component. A run
// with --tolerate-errors must keep going, classify its errors and show the
// fault as an errors-began event with a recovery time; one without must
// stop with one clear line and still write its files. Every run must leave
// the bank's invariants intact as SQL of the faults package (not
// `authbench check`) sees them through the admin connection.
func TestFaultsAgainstStack(t *testing.T) {
	stacktest.RequireSPIRE(t)
	var cfg stack.Config
	kdc.Enable(&cfg, kdc.Settings{TicketLifetime: faultTicketLife})
	spiffe.Enable(&cfg, spiffe.Settings{TTL: faultSVIDTTL})
	vault.Enable(&cfg, vault.Settings{Server: vault.Builtin}) // the real one: TestVaultFaultsAgainstOpenBao
	st := stacktest.Start(t, func(c *stack.Config) { *c = cfg })
	c := newCLI(t, st)
	c.mustRun("init", "bank", "--accounts", strconv.Itoa(faultAccounts), "--initial-balance", strconv.Itoa(faultBalance))
	f := &faultFixture{st: st, c: c, cfg: cfg}

	t.Run("commit outcome unknown", f.testCommitUnknown)
	t.Run("postgres restarted", f.testPostgresRestart)
	t.Run("sessions terminated", f.testSessionsTerminated)
	t.Run("haproxy backend disabled", f.testBackendDisabled)
	t.Run("stops without --tolerate-errors", f.testStopsWithoutTolerate)
	t.Run("kdc stopped", f.testKDCStopped)
	t.Run("spire agent restarted", f.testAgentRestarted)
	t.Run("spire server stopped", f.testSPIREServerStopped)
	t.Run("spire entry deleted", f.testEntryDeleted)
	t.Run("vault restarted and lease revoked", f.testVaultFaults)
}

// TestVaultFaultsAgainstOpenBao runs the Vault faults of
// TestFaultsAgainstStack, whose stack runs the stand-in, against a real
// OpenBao (bao on PATH), on a stack with only the Vault component.
func TestVaultFaultsAgainstOpenBao(t *testing.T) {
	var cfg stack.Config
	vault.Enable(&cfg, vault.Settings{Server: vaulttest.Real(t).Server})
	st := stacktest.Start(t, func(c *stack.Config) { *c = cfg })
	c := newCLI(t, st)
	c.mustRun("init", "bank", "--accounts", strconv.Itoa(faultAccounts), "--initial-balance", strconv.Itoa(faultBalance))
	f := &faultFixture{st: st, c: c, cfg: cfg}
	t.Run("vault restarted and lease revoked", f.testVaultFaults)
}

// faultFixture is the shared stack and CLI.
type faultFixture struct {
	st  *stack.State
	c   *cli
	cfg stack.Config
}

// faultRate is the fault runs' open-loop rate: far below what the stack
// does on a busy machine, so that a healthy second is a full second and
// "back to 90 % of the throughput before the fault" is about the driver,
// not about the machine's other load.
const faultRate = "200"

// start starts a bench run of d (0: until --max-ops or Ctrl-C) at
// faultRate with the given auth and extra flags (which may override the
// rate); the process is killed if the test ends first.
func (f *faultFixture) start(t *testing.T, dir, auth string, d time.Duration, extra ...string) *backgroundRun {
	args := append([]string{"run", "bank", "--auth", auth, "--concurrency", "4", "--duration", d.String(),
		"--max-rate", faultRate, "--metrics-addr", "", "--out", dir}, extra...)
	return startRun(t, f.c.with(t), args...)
}

// startTolerant starts a --tolerate-errors run that goes on until the test
// interrupts it (finish does, once the run has recovered from the fault),
// and waits for a clean period: a fault after it is an errors-began event.
func (f *faultFixture) startTolerant(t *testing.T, dir, auth string, extra ...string) *backgroundRun {
	t.Helper()
	r := f.start(t, dir, auth, 0, append([]string{"--tolerate-errors"}, extra...)...)
	r.waitClean(t, cleanTick, 4)
	return r
}

// errorsBegan matches the per-second output's line of an errors-began
// event: the driver has seen the fault.
var errorsBegan = regexp.MustCompile(`\[errors-began\] driver`)

// waitTick waits for the per-second line of second n.
func waitTick(t *testing.T, r *backgroundRun, n int) {
	t.Helper()
	waitMatch(t, r, regexp.MustCompile(fmt.Sprintf(`^\s+%d\.0s\s+\d+ .* transfer$`, n)))
}

// waitMatch waits for a stdout line matching re and returns its submatches.
func waitMatch(t *testing.T, r *backgroundRun, re *regexp.Regexp) []string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case line := <-r.lines:
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-r.done:
			for { // the lines still queued when it ended count too
				select {
				case line := <-r.lines:
					if m := re.FindStringSubmatch(line); m != nil {
						return m
					}
				default:
					t.Fatalf("run ended before a line matching %s:\n%s\n%s", re, r.stdout.String(), r.stderr.String())
				}
			}
		case <-timeout:
			t.Fatalf("no line matching %s within a minute", re)
		}
	}
}

// assertBank checks the invariants with the faults package's own SQL:
// money neither made nor lost, every account's balance its initial one
// plus its recorded transfers (none applied twice), and as many transfers
// recorded for the run as summary.json says it committed.
func (f *faultFixture) assertBank(t *testing.T, s *results.Summary) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := faults.ReadBank(ctx, stacktest.Admin(t, f.st), faultBalance, s.RunID)
	if err != nil {
		t.Fatal(err)
	}
	tr := s.Op("transfer")
	committed := tr.Committed
	for _, p := range b.Problems(faultAccounts, faultBalance, committed, tr.Ambiguous) {
		t.Errorf("bank invariant: %s", p)
	}
	if tr.Ambiguous > 0 {
		t.Logf("%d transfers of unknown outcome; %d committed, %d recorded", tr.Ambiguous, committed, b.Recorded)
	}
	if committed == 0 {
		t.Error("the run committed no transfer")
	}
}

// finish waits until a tolerant run has recovered from what the test did
// (clean seconds in a row after everything was restored, however long that
// took), interrupts it, checks the bank and that the fault injected at the
// given time shows as an errors-began event whose errors are of one of the
// classes wanted, with a recovery time; it returns the summary.
func (f *faultFixture) finish(t *testing.T, r *backgroundRun, dir string, injected time.Time, classes ...string) *results.Summary {
	t.Helper()
	r.drain() // seconds from before the restore do not count
	r.waitClean(t, cleanTick, 4)
	r.interrupt(t) // the interrupted run still writes its summary, ticks and fault table
	s := readSummary(t, dir)
	f.assertBank(t, s)
	for _, err := range []error{faults.Classified(s, classes...), faults.EndsClean(dir)} {
		if err != nil {
			t.Error(err)
		}
	}
	fi, err := faults.FaultAt(s, injected)
	if err != nil {
		t.Error(err)
		return s
	}
	t.Logf("fault %.1fs after the start: %s; dip %.2f, %d failed transactions in 10 s, recovered after %.0f s; retried errors %v, failed %v",
		fi.Elapsed, fi.Detail, fi.Dip, fi.ErrorsWindow, fi.RecoveryS, s.Retried, s.Errors)
	if fi.RecoveryS < 0 {
		t.Errorf("throughput never recovered after the fault: %+v\n%s", fi, r.stdout.String())
	}
	if !strings.Contains(r.stdout.String(), "faults (errors after a clean period):") || !strings.Contains(r.stdout.String(), "[errors-began] driver") {
		t.Errorf("stdout shows no errors-began event or fault table:\n%s", r.stdout.String())
	}
	return s
}

func (f *faultFixture) testPostgresRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := f.startTolerant(t, dir, "cert")
	injected := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.st.RestartPostgres(ctx); err != nil {
		t.Fatalf("pg_ctl restart -m fast: %v", err)
	}
	f.finish(t, r, dir, injected, "connection")
}

func (f *faultFixture) testSessionsTerminated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := f.startTolerant(t, dir, "password")
	injected := time.Now()
	// The pool opens connections on demand: at the fault rate fewer than
	// --concurrency may be open, so any terminated session is the fault.
	ended, err := faults.TerminateSessions(context.Background(), stacktest.Admin(t, f.st), "bench_password")
	if err != nil || ended < 1 {
		t.Fatalf("terminated %d sessions of bench_password (want >= 1): %v", ended, err)
	}
	t.Logf("terminated %d sessions of bench_password", ended)
	f.finish(t, r, dir, injected, "connection")
}

// backendDown takes the database out of HAProxy and cuts its sessions; the
// returned func (also run at cleanup) puts it back.
func (f *faultFixture) backendDown(t *testing.T) func() {
	t.Helper()
	server := stack.HAProxyBackend + "/" + stack.HAProxyServer
	for _, cmd := range []string{"disable server " + server, "shutdown sessions server " + server} {
		if _, err := f.st.HAProxyCommand(cmd); err != nil {
			t.Fatal(err)
		}
	}
	var once sync.Once
	up := func() {
		once.Do(func() {
			if _, err := f.st.HAProxyCommand("enable server " + server); err != nil {
				t.Errorf("re-enable the backend: %v", err)
			}
			if err := faults.WaitBackendUp(f.st, time.Minute); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(up)
	return up
}

func (f *faultFixture) testBackendDisabled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := f.startTolerant(t, dir, "cert")
	injected := time.Now()
	up := f.backendDown(t)
	time.Sleep(3 * time.Second)
	up()
	f.finish(t, r, dir, injected, "connection")
}

// testStopsWithoutTolerate cuts the backend with few retries allowed: the
// run must stop at the first failed transaction with one clear line, exit
// 1 and still write its files.
func (f *faultFixture) testStopsWithoutTolerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := f.start(t, dir, "cert", 0, "--max-retries", "1") // until the error (or Ctrl-C)
	waitTick(t, r, 2)
	up := f.backendDown(t)
	select {
	case <-r.done:
	case <-time.After(time.Minute):
		t.Fatalf("the run kept going a minute after the backend went down:\n%s\n%s", r.output(), r.stderr.String())
	}
	o := r.result()
	assertOneLineError(t, o, 1, "stopped after a failed transaction", "class connection", "--tolerate-errors", dir)
	s := readSummary(t, dir)
	if s.StopReason != "error" || s.Op("transfer").Errors == 0 {
		t.Errorf("summary.json: stop reason %q, %d failed transfers; want error and at least 1", s.StopReason, s.Op("transfer").Errors)
	}
	for _, name := range []string{results.TicksFile, "transfer" + results.HlogSuffix} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("the stopped run did not write %s: %v", name, err)
		}
	}
	f.assertBank(t, s)
	up()
	f.c.with(t).mustRun("check", "bank", "--run", dir) // a COMMIT cut by the fault may have landed: check knows
}

func (f *faultFixture) testKDCStopped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	// Connections live 2-3 s, so new ones need tickets while the KDC is down.
	r := f.startTolerant(t, dir, "gssapi", "--krbsrvname", "customspn",
		"--max-conn-lifetime", "2s", "--max-conn-lifetime-jitter", "1s")
	injected := time.Now()
	restore := f.restorer(t)
	if err := kdc.Stop(kdc.Of(f.st).KDCDir); err != nil {
		t.Fatal(err)
	}
	// The cached tickets go stale within their lifetime; the KDC stays down
	// until a new connection has failed for want of one, however long the
	// machine takes to get there.
	waitMatch(t, r, errorsBegan)
	restore()
	f.finish(t, r, dir, injected, "auth", "connection")
}

// restorer returns a func that brings every stopped part of the stack
// back (once), also run when the test ends early.
func (f *faultFixture) restorer(t *testing.T) func() {
	var once sync.Once
	up := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cfg := f.cfg
			cfg.Dir = f.st.Dir
			if _, err := stack.Up(ctx, cfg, nil); err != nil {
				t.Errorf("stack up again: %v", err)
			}
		})
	}
	t.Cleanup(up)
	return up
}

func (f *faultFixture) testAgentRestarted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := f.startTolerant(t, dir, "spiffe") // go-spiffe reconnects with backoff
	// The fault is the stopped agent: a connection the pool opens from now
	// on may already fail on an expired SVID.
	injected := time.Now()
	restore := f.restorer(t)
	sp, err := spiffe.Of(f.st).SPIRE()
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Stop(spire.AgentProc, io.Discard); err != nil {
		t.Fatal(err)
	}
	time.Sleep(faultSVIDTTL + time.Second) // the last SVID has expired
	ended, err := faults.TerminateSessions(context.Background(), stacktest.Admin(t, f.st), "bench_spiffe")
	if err != nil || ended == 0 {
		t.Fatalf("terminated %d sessions of bench_spiffe: %v", ended, err)
	}
	// New connections need an SVID nobody issues: the agent stays down
	// until the driver has seen that (or an earlier such failure).
	waitMatch(t, r, errorsBegan)
	restore()
	f.finish(t, r, dir, injected, "auth")
}

// anyTick matches a per-second line of the bank.
var anyTick = regexp.MustCompile(`^\s+\d+\.0s\s+\d+ .* transfer$`)

var vaultLease = regexp.MustCompile(`\] vault .*lease (database/creds/\S+),`)

// testVaultFaults restarts the credential server under a vault run, then
// revokes the lease in use once the run has recovered.
func (f *faultFixture) testVaultFaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := f.startTolerant(t, dir, "vault")
	restarted := time.Now()
	restore := f.restorer(t)
	if err := f.st.StopBuiltin("vault"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	restore()
	client, err := faults.VaultRootClient(f.st)
	if err != nil {
		t.Fatal(err)
	}
	// Credentials from the restarted server: a lease the old one issued
	// while it stopped (OpenBao revokes on the way down) is unknown to it.
	lease := waitMatch(t, r, vaultLease)[1]
	for _, err := client.Sys().Lookup(lease); err != nil; _, err = client.Sys().Lookup(lease) {
		lease = waitMatch(t, r, vaultLease)[1]
	}
	// A clean period, so that the revocation is a fault of its own.
	r.waitClean(t, cleanTick, 4)
	revoked := time.Now()
	if err := client.Sys().Revoke(lease); err != nil {
		t.Fatalf("revoke %s: %v", lease, err)
	}
	s := f.finish(t, r, dir, restarted, "auth", "connection")
	if fi, err := faults.FaultAt(s, revoked); err != nil {
		t.Error(err)
	} else {
		t.Logf("revocation: %s; dip %.2f, recovered after %.0f s", fi.Detail, fi.Dip, fi.RecoveryS)
		if fi.RecoveryS < 0 {
			t.Errorf("throughput never recovered after the revocation: %+v", fi)
		}
	}
}

// The commit-unknown proxy drops the reply of every commitEvery-th COMMIT,
// commitDrops times.
const (
	commitEvery = 150
	commitDrops = 3
)

// testCommitUnknown puts a proxy between the driver and HAProxy that lets
// three COMMITs reach the server and then cuts their connections before
// the reply: the driver retries each transfer under its fixed id, and no
// transfer may be applied twice.
func (f *faultFixture) testCommitUnknown(t *testing.T) {
	p, err := faults.StackCommitDropper(f.st, commitEvery, commitDrops)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	dir := filepath.Join(t.TempDir(), "run")
	// Bounded by ops, not time: twice the COMMITs the drops need, however
	// long the machine takes for them.
	r := f.start(t, dir, "password", 0, "--host", "127.0.0.1", "--port", strconv.Itoa(p.Port()),
		"--max-ops", strconv.Itoa(2*commitEvery*commitDrops))
	r.wait(t) // no --tolerate-errors: every dropped COMMIT must be retried to success
	s := readSummary(t, dir)
	if s.StopReason != "max-ops" {
		t.Errorf("summary.json: stop reason %q, want max-ops", s.StopReason)
	}
	f.assertBank(t, s)
	drops := p.Drops()
	if len(drops) != commitDrops {
		t.Fatalf("the proxy dropped %d COMMIT replies, want %d (proxy errors %v)", len(drops), commitDrops, p.Errors())
	}
	conn := stacktest.Admin(t, f.st)
	for _, d := range drops {
		n, err := faults.TransferCount(context.Background(), conn, d.FirstParam)
		if err != nil || n != 1 {
			t.Errorf("transfer %x whose COMMIT reply was dropped is recorded %d times (want exactly 1): %v", d.FirstParam, n, err)
		}
	}
	if tr := s.Op("transfer"); tr.Errors != 0 || s.Retried["connection"] < commitDrops {
		t.Errorf("%d failed transfers (want 0), retried connection errors %v (want >= %d)", tr.Errors, s.Retried, commitDrops)
	}
}
