package main

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/stack/vault"
	"github.com/authbench/authbench/stack/vault/vaulttest"
)

// TestVaultAgainstStack runs the vault auth mode through HAProxy against
// each credential server the stack can run — the stand-in, and a real
// OpenBao when bao is on PATH (vaulttest.Servers) — with default_ttl
// 10s, max_ttl 20s, static rotation every 5s (OpenBao's minimum) and AppRole
// tokens of 8s renewable to 16s: rotations under load, a revocation
// mid-run, a static role, a static role started again and again, AppRole,
// an AppRole token shorter than the run, the one-line errors, and no secret
// in any output.
func TestVaultAgainstStack(t *testing.T) {
	vaulttest.Servers(t, func(t *testing.T, srv vaulttest.Server) {
		st := stacktest.Start(t, func(c *stack.Config) {
			vault.Enable(c, vault.Settings{Server: srv.Server, DefaultTTL: 10 * time.Second, MaxTTL: 20 * time.Second,
				StaticRotation: 5 * time.Second, TokenTTL: vaultTokenTTL, TokenMaxTTL: vaultTokenMaxTTL})
		})
		c := newCLI(t, st)
		c.mustRun("init", "bank", "--accounts", "500", "--initial-balance", "1000")
		v := &vaultFixture{st: st, c: c, root: strings.TrimSpace(readFile(t, vault.Of(st).TokenFile))}
		v.planted = []string{v.root, strings.TrimSpace(readFile(t, vault.Of(st).SecretIDFile))}

		t.Run("rotations under load", v.testRotations)
		t.Run("revocation mid-run", v.testRevocation)
		t.Run("static role", v.testStatic)
		// Once per test run: on OpenBao when it is there, else on the stand-in.
		t.Run("static role started repeatedly", func(t *testing.T) { vaulttest.OnceOnReal(t, srv); v.testStaticStarts(t) })
		t.Run("approle", v.testAppRole)
		t.Run("approle token shorter than the run", func(t *testing.T) { vaulttest.OnceOnReal(t, srv); v.testAppRoleTokenLife(t) })
		t.Run("one-line errors", v.testErrors)
	})
}

// The AppRole's token lifetime in TestVaultAgainstStack: shorter than the
// runs, so that the mode must log in again under load.
const (
	vaultTokenTTL    = 8 * time.Second
	vaultTokenMaxTTL = 16 * time.Second
)

// vaultFixture is the shared stack, CLI and the secrets no output may hold.
type vaultFixture struct {
	st      *stack.State
	c       *cli
	root    string
	planted []string
}

func (v *vaultFixture) testRotations(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := v.start(t, 2*time.Minute, "run", "bank", "--auth", "vault", "--concurrency", "8", "--duration", "45s", "--out", dir)
	o := r.result()
	if o.code != 0 {
		t.Fatalf("run failed (exit %d): %s", o.code, o.stderr)
	}
	s := readSummary(t, dir)
	assertAuthSettings(t, dir, "vault", v.planted...)
	rotations := vaultEventsOf(s, "rotation")
	if len(rotations) < 2 || len(s.Rotations) < 2 {
		t.Errorf("%d rotation events, %d rows in the rotation table; want at least 2", len(rotations), len(s.Rotations))
	}
	for _, e := range rotations {
		if !e.Rotation || e.Source != "vault" {
			t.Errorf("rotation event not marked as one: %+v", e)
		}
	}
	if n := vaultFailed(s); n != 0 {
		t.Errorf("%d failed transactions across credential rotations (errors %v)", n, s.Errors)
	}
	for _, want := range []string{"[rotation] vault", "[retire] vault", "rotations:", "credential"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	cred, ok := s.Handshake["credential"]
	if !ok {
		t.Error("summary.json has no credential handshake phase")
	}
	t.Logf("credential phase p50 %.2f p99 %.2f max %.2f ms; %d connections", cred.P50, cred.P99, cred.Max, s.Connections.Opened)
	for _, r := range s.Rotations {
		t.Logf("rotation at %.1fs: dip %.2f, errors %d, recovery %.0fs", r.Elapsed, r.Dip, r.ErrorsWindow, r.RecoveryS)
	}
	v.c.mustRun("check", "bank", "--run", dir)
	v.waitNoDynamicRoles(t)
	metrics := r.metrics()
	t.Logf("/metrics: %d bytes scraped", len(metrics))
	v.assertNoLeak(t, o, dir, metrics, nil)
}

// vaultNewLease matches the line of new dynamic credentials, the first ones
// or a rotation's: the user and lease the driver uses from then on.
var vaultNewLease = regexp.MustCompile(`\[(?:credentials|rotation)\] vault .*: (?:new )?user (\S+), lease (\S+),`)

// testRevocation revokes the lease in use under a tolerant run that goes on
// until the test interrupts it, and ends the run once the driver has seen
// the revocation and recovered, however long that took. The lease is
// revoked after a clean period, once the driver has taken a new one (the
// next scheduled one is most of a TTL away) and every session of the run is
// of its user: the revocation ends sessions of the current lease, which is
// how the driver learns of it at once. (A lease without sessions yet would
// only be refused to new connections, and its revocation be seen as such
// at the next renewal, maybe after the next rotation.) --vault-retire-jitter
// 0s moves every session to the new lease right after a rotation.
func (v *vaultFixture) testRevocation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := v.start(t, vaultRunLimit, "run", "bank", "--auth", "vault", "--concurrency", "8", "--duration", "0s", "--tolerate-errors",
		"--vault-retire-jitter", "0s", "--out", dir)
	r.waitClean(t, vaultCleanTick, 4)
	waitMatch(t, r.backgroundRun, vaultNewLease)
	lease := v.waitLeaseInUse(t, r)
	if err := v.client(t).Sys().Revoke(lease); err != nil {
		t.Fatalf("revoke %s: %v", lease, err)
	}
	waitMatch(t, r.backgroundRun, regexp.MustCompile(`\[revocation\] vault lease `+regexp.QuoteMeta(lease)+` `))
	r.waitClean(t, vaultCleanTick, 4) // recovered
	r.interrupt(t)
	o := r.result()
	s := readSummary(t, dir)
	rev := vaultEventsOf(s, "revocation")
	if len(rev) != 1 || !rev[0].Rotation || !strings.Contains(rev[0].Detail, lease) {
		t.Fatalf("revocation events %+v, want one rotation event naming %s", rev, lease)
	}
	var row *results.RotationImpact
	for i := range s.Rotations {
		if s.Rotations[i].Kind == "revocation" {
			row = &s.Rotations[i]
		}
	}
	if row == nil || !strings.Contains(o.stdout, "revocation") {
		t.Fatalf("no revocation row in the rotation table: %+v", s.Rotations)
	}
	t.Logf("revocation: dip %.2f, errors in 10s %d, recovery %.0fs", row.Dip, row.ErrorsWindow, row.RecoveryS)
	if after := vaultOpsAfter(t, dir, rev[0].Elapsed); after == 0 {
		t.Error("no transfer committed after the revocation: the driver did not recover")
	}
	classes := map[string]bool{"retryable": true, "connection": true, "auth": true, "timeout": true, "other": true}
	var byClass int64
	for class, n := range s.Errors {
		if !classes[class] {
			t.Errorf("errors of unknown class %q", class)
		}
		byClass += n
	}
	if byClass != vaultFailed(s) {
		t.Errorf("errors by class %v do not add up to %d failed transactions", s.Errors, vaultFailed(s))
	}
	v.c.mustRun("check", "bank", "--run", dir)
	v.assertNoLeak(t, o, dir, r.metrics(), nil)
}

// testStatic runs on a static role, without --tolerate-errors, until the
// driver has taken Vault's rotated password and gone on cleanly with it for
// a few seconds, however long the rotation took to come.
func (v *vaultFixture) testStatic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	watch := v.watchStaticPasswords(t)
	r := v.start(t, vaultRunLimit, "run", "bank", "--auth", "vault", "--vault-static-role", vault.StaticRole, "--concurrency", "8", "--duration", "0s", "--out", dir)
	waitMatch(t, r.backgroundRun, regexp.MustCompile(`\[rotation\] vault .*: new password,`))
	r.waitClean(t, vaultCleanTick, 3)
	watch.waitSeen(t, 2) // the watch started before the run: it saw the first password too
	r.interrupt(t)
	o := r.result()
	passwords := watch.stop()
	s := readSummary(t, dir)
	if len(vaultEventsOf(s, "rotation")) < 1 || len(passwords) < 2 {
		t.Errorf("%d rotation events, %d passwords seen: want a run across at least one rotation", len(vaultEventsOf(s, "rotation")), len(passwords))
	}
	if n := vaultFailed(s); n != 0 {
		t.Errorf("%d failed transactions across a static password rotation", n)
	}
	v.c.mustRun("check", "bank", "--run", dir)
	v.assertNoLeak(t, o, dir, r.metrics(), passwords)
}

func (v *vaultFixture) testAppRole(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := v.start(t, 2*time.Minute, "run", "bank", "--auth", "vault", "--vault-auth", "approle", "--duration", "3s", "--out", dir)
	o := r.result()
	if o.code != 0 || !strings.Contains(o.stdout, "[login] vault AppRole login") || !strings.Contains(o.stdout, "as v-approle-") {
		t.Fatalf("AppRole run (exit %d):\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	v.assertNoLeak(t, o, dir, r.metrics(), nil)

	wrong := filepath.Join(t.TempDir(), "secret-id")
	if err := os.WriteFile(wrong, []byte("wrong-secret-id-31337\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o = v.c.run("run", "bank", "--auth", "vault", "--vault-auth", "approle", "--vault-secret-id-file", wrong, "--duration", "1s")
	assertOneLineError(t, o, 1, "AppRole login", "--vault-secret-id-file")
	if strings.Contains(o.stdout+o.stderr, "wrong-secret-id-31337") {
		t.Error("the wrong secret_id was printed")
	}
}

// staticStarts and staticStartRun: the runs of testStaticStarts, each
// started at another point of the 5s rotation (and of the server's 5s
// queue): fewer and shorter than the 45s, since what can fail is
// the first connections of a run, and every run still spans a rotation.
const (
	staticStarts   = 5
	staticStartRun = "8s"
)

// testStaticStarts starts short runs on the static role one after another:
// a run that starts right as Vault rotates the password must still not
// fail a transaction (the mode reads the rotated password again).
func (v *vaultFixture) testStaticStarts(t *testing.T) {
	for i := range staticStarts {
		dir := filepath.Join(t.TempDir(), "run")
		o := v.c.run("run", "bank", "--auth", "vault", "--vault-static-role", vault.StaticRole, "--concurrency", "8",
			"--duration", staticStartRun, "--metrics-addr", "", "--out", dir)
		if o.code != 0 {
			t.Fatalf("start %d: exit %d: %s", i+1, o.code, o.stderr)
		}
		s := readSummary(t, dir)
		if n := vaultFailed(s); n != 0 {
			t.Errorf("start %d: %d failed transactions (errors %v)", i+1, n, s.Errors)
		}
		t.Logf("start %d: %d rotation events, %d rejected logins", i+1, len(vaultEventsOf(s, "rotation")), len(vaultEventsOf(s, "rejected")))
		v.assertNoLeak(t, o, dir, "", nil)
	}
}

// testAppRoleTokenLife runs on AppRole with tokens of 8s renewable to 16s
// for longer than three of them live: the mode must log in again at least
// three times, fail no transaction, and retire every old user's connections
// before Vault revokes its lease with the old token — a lease revoked under
// a live connection would end its session (57P01, a connection error the
// driver retries) or be seen as a revocation. (45s instead of the issue's
// 60s: a new login comes every ~11s, so still at least three.)
func (v *vaultFixture) testAppRoleTokenLife(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := v.start(t, 3*time.Minute, "run", "bank", "--auth", "vault", "--vault-auth", "approle", "--concurrency", "8",
		"--duration", "45s", "--out", dir)
	o := r.result()
	if o.code != 0 {
		t.Fatalf("run failed (exit %d): %s", o.code, o.stderr)
	}
	s := readSummary(t, dir)
	logins := vaultEventsOf(s, "login")
	if len(logins) < 4 {
		t.Errorf("%d logins, want the first and at least three more: %+v", len(logins), logins)
	}
	if n := vaultFailed(s); n != 0 {
		t.Errorf("%d failed transactions across token changes (errors %v)", n, s.Errors)
	}
	if rev := vaultEventsOf(s, "revocation"); len(rev) != 0 {
		t.Errorf("leases revoked while in use: %+v", rev)
	}
	if n := s.Retried["connection"] + s.Retried["auth"]; n != 0 {
		t.Errorf("%d connection or auth errors retried (%v): a lease went away under a live connection", n, s.Retried)
	}
	v.c.mustRun("check", "bank", "--run", dir)
	v.assertNoLeak(t, o, dir, r.metrics(), nil)
}

func (v *vaultFixture) testErrors(t *testing.T) {
	badToken := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(badToken, []byte("hvs.not-a-valid-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) outcome {
		return v.c.run(append([]string{"run", "bank", "--auth", "vault", "--duration", "1s", "--metrics-addr", ""}, args...)...)
	}
	assertOneLineError(t, run("--vault-addr", "http://"+refusedAddr(t)), 1, "unreachable", "--vault-addr")
	assertOneLineError(t, run("--vault-token-file", badToken), 1, "refused the token", badToken)
	assertOneLineError(t, run("--vault-role", "nosuch"), 1, `no role "nosuch"`, "--vault-role")
	// The server seals and unseals on a signal, asynchronously.
	if err := v.st.SignalBuiltin("vault", syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.st.SignalBuiltin("vault", syscall.SIGUSR2) }) // even if the test stops early
	v.waitSealed(t, true)
	o := run()
	if err := v.st.SignalBuiltin("vault", syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	v.waitSealed(t, false)
	assertOneLineError(t, o, 1, "sealed", "unseal")
}

// waitSealed polls the server's sys/health until it reports sealed as
// want, for at most 30 s.
func (v *vaultFixture) waitSealed(t *testing.T, want bool) {
	t.Helper()
	c := v.client(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := c.Sys().Health()
		if err == nil && h.Sealed == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("vault did not report sealed=%v within 30s: %+v, %v", want, h, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// vaultRun is a run of the binary with /metrics scraped while it runs.
type vaultRun struct {
	*backgroundRun
	scrapeMu sync.Mutex // guards scraped
	scraped  []string
}

// vaultRunLimit is how long a run that goes on until the test interrupts
// it may take: enough for the waits of testRevocation, each with its own
// limit, to fail first.
const vaultRunLimit = 10 * time.Minute

// start runs the binary serving /metrics on a port of its choosing,
// scraped from when the run prints where until the run ends; the process is
// killed after limit.
func (v *vaultFixture) start(t *testing.T, limit time.Duration, args ...string) *vaultRun {
	t.Helper()
	r := &vaultRun{backgroundRun: startRunFor(t, v.c, limit, append(args, "--metrics-addr", "127.0.0.1:0")...)}
	go r.scrape("http://" + waitMatch(t, r.backgroundRun, metricsLine)[1] + "/metrics")
	return r
}

// scrape keeps every /metrics body it gets until the run's output ends.
func (r *vaultRun) scrape(url string) {
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-r.done:
			return
		case <-time.After(300 * time.Millisecond):
		}
		resp, err := client.Get(url)
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.scrapeMu.Lock()
		r.scraped = append(r.scraped, string(body))
		r.scrapeMu.Unlock()
	}
}

func (r *vaultRun) metrics() string {
	r.scrapeMu.Lock()
	defer r.scrapeMu.Unlock()
	return strings.Join(r.scraped, "\n")
}

// vaultCleanTick is a per-second line of a transfer with no failed
// transaction and at least one committed. Unlike cleanTick it allows
// retries: at the vault tests' unlimited rate on 500 accounts, retried
// serialization failures and deadlocks come every second, rotation or not.
var vaultCleanTick = regexp.MustCompile(`^\s+\d+\.0s\s+0\s+\d+\s+[1-9]\d*\.\d\s.* transfer$`)

// client is an API client with the stack's root token.
func (v *vaultFixture) client(t *testing.T) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = vault.Of(v.st).Addr
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(v.root)
	return c
}

// staticWatch reads the static role's password every 200ms until stopped.
type staticWatch struct {
	mu            sync.Mutex
	seen          map[string]bool
	stopped, done chan struct{}
}

// watchStaticPasswords starts a staticWatch once it has read the current
// password, so that every later one is new.
func (v *vaultFixture) watchStaticPasswords(t *testing.T) *staticWatch {
	t.Helper()
	client := v.client(t)
	w := &staticWatch{seen: map[string]bool{}, stopped: make(chan struct{}), done: make(chan struct{})}
	read := func() bool {
		sec, err := client.Logical().Read(vault.Mount + "/static-creds/" + vault.StaticRole)
		if err != nil || sec == nil {
			return false
		}
		pw, _ := sec.Data["password"].(string)
		w.mu.Lock()
		defer w.mu.Unlock()
		if pw != "" {
			w.seen[pw] = true
		}
		return pw != ""
	}
	for deadline := time.Now().Add(time.Minute); !read(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no password of static role %s from Vault within a minute", vault.StaticRole)
		}
	}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stopped:
				return
			case <-time.After(200 * time.Millisecond):
			}
			read()
		}
	}()
	t.Cleanup(w.halt)
	return w
}

// waitSeen waits until the watch has seen n passwords.
func (w *staticWatch) waitSeen(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		w.mu.Lock()
		seen := len(w.seen)
		w.mu.Unlock()
		if seen >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watch saw %d passwords of static role %s within a minute, want %d", seen, vault.StaticRole, n)
		}
	}
}

// halt stops the watch; it may be called more than once.
func (w *staticWatch) halt() {
	select {
	case <-w.stopped:
	default:
		close(w.stopped)
	}
	<-w.done
}

// stop stops the watch and returns every password it saw.
func (w *staticWatch) stop() []string {
	w.halt()
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for pw := range w.seen {
		out = append(out, pw)
	}
	return out
}

// waitLeaseInUse waits until every session of Vault-made users is of the
// user of the newest lease the run announced, and returns that lease.
func (v *vaultFixture) waitLeaseInUse(t *testing.T, r *vaultRun) string {
	t.Helper()
	conn := stacktest.Admin(t, v.st)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		user, lease := r.newestLease()
		rows, _ := conn.Query(ctx, "SELECT DISTINCT usename FROM pg_stat_activity WHERE usename LIKE 'v-%'")
		users, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err == nil && len(users) == 1 && users[0] == user {
			return lease
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the sessions of the run are of %v (%v), not all of %s, the user of the newest lease %s", users, err, user, lease)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// newestLease returns the user and lease of the last line of new
// credentials the run printed.
func (r *vaultRun) newestLease() (user, lease string) {
	lines := strings.Split(r.output(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if m := vaultNewLease.FindStringSubmatch(lines[i]); m != nil {
			return m[1], m[2]
		}
	}
	return "", ""
}

// waitNoDynamicRoles waits until the database has no Vault-made role left:
// the run revoked its leases and the server dropped the expired ones.
func (v *vaultFixture) waitNoDynamicRoles(t *testing.T) {
	t.Helper()
	conn := stacktest.Admin(t, v.st)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		rows, _ := conn.Query(ctx, "SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-%'")
		left, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err == nil && len(left) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Vault roles left in the database after the run: %v (%v)", left, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// assertNoLeak fails when a planted secret (the root token, the secret_id,
// extra passwords) is in stdout, stderr, the run directory or /metrics.
func (v *vaultFixture) assertNoLeak(t *testing.T, o outcome, dir, metrics string, extra []string) {
	t.Helper()
	texts := map[string]string{"stdout": o.stdout, "stderr": o.stderr, "/metrics": metrics,
		"the credential server's log": readFile(t, filepath.Join(v.st.Dir, "vault", "vault.log"))}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			texts[path] = readFile(t, path)
		}
		return nil
	})
	for where, text := range texts {
		for _, s := range append(append([]string{}, v.planted...), extra...) {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("a planted secret appears in %s", where)
			}
		}
	}
}

func vaultEventsOf(s *results.Summary, kind string) []results.Event {
	var out []results.Event
	for _, e := range s.Events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func vaultFailed(s *results.Summary) int64 {
	var n int64
	for _, o := range s.Ops {
		n += o.Errors
	}
	return n
}

// vaultOpsAfter counts the ops committed in the ticks after elapsed.
func vaultOpsAfter(t *testing.T, dir string, elapsed float64) int64 {
	t.Helper()
	ticks, err := results.ReadTicks(filepath.Join(dir, results.TicksFile))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, tk := range ticks {
		if tk.Elapsed-tk.IntervalS > elapsed {
			for _, o := range tk.Ops {
				n += o.Count
			}
		}
	}
	return n
}
