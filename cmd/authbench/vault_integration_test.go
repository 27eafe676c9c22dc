package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
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
)

// TestVaultAgainstStack runs the vault auth mode through HAProxy against
// the stack's credential server (default_ttl 10s, max_ttl 20s, static
// rotation every 5s): rotations under load, a revocation mid-run, a static
// role, AppRole, the one-line errors, and no secret in any output.
func TestVaultAgainstStack(t *testing.T) {
	st := stacktest.Start(t, func(c *stack.Config) {
		c.Vault = &stack.VaultConfig{DefaultTTL: 10 * time.Second, MaxTTL: 20 * time.Second, StaticRotation: 5 * time.Second}
	})
	c := newCLI(t, st)
	c.mustRun("init", "bank", "--accounts", "500", "--initial-balance", "1000")
	v := &vaultFixture{st: st, c: c, root: strings.TrimSpace(vaultReadFile(t, st.Vault.TokenFile))}
	v.planted = []string{v.root, strings.TrimSpace(vaultReadFile(t, st.Vault.SecretIDFile))}

	t.Run("rotations under load", v.testRotations)
	t.Run("revocation mid-run", v.testRevocation)
	t.Run("static role", v.testStatic)
	t.Run("approle", v.testAppRole)
	t.Run("one-line errors", v.testErrors)
}

// vaultFixture is the shared stack, CLI and the secrets no output may hold.
type vaultFixture struct {
	st      *stack.State
	c       *cli
	root    string
	planted []string
}

func (v *vaultFixture) testRotations(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := v.start(t, "run", "bank", "--auth", "vault", "--concurrency", "8", "--duration", "45s", "--out", dir)
	o := r.wait(t)
	if o.code != 0 {
		t.Fatalf("run failed (exit %d): %s", o.code, o.stderr)
	}
	s := readSummary(t, dir)
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

func (v *vaultFixture) testRevocation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := v.start(t, "run", "bank", "--auth", "vault", "--concurrency", "8", "--duration", "15s", "--tolerate-errors", "--out", dir)
	lease := r.waitFor(t, regexp.MustCompile(`\[credentials\] vault .* lease (\S+),`))
	r.waitFor(t, regexp.MustCompile(`^\s+3\.0s .* transfer$`))
	if err := v.client(t).Sys().Revoke(lease); err != nil {
		t.Fatalf("revoke %s: %v", lease, err)
	}
	o := r.wait(t)
	if o.code != 0 {
		t.Fatalf("the run did not survive the revocation (exit %d): %s", o.code, o.stderr)
	}
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

func (v *vaultFixture) testStatic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	watch := v.watchStaticPasswords(t)
	r := v.start(t, "run", "bank", "--auth", "vault", "--vault-static-role", stack.VaultStaticRole, "--concurrency", "8", "--duration", "12s", "--out", dir)
	o := r.wait(t)
	passwords := watch()
	if o.code != 0 {
		t.Fatalf("run failed (exit %d): %s", o.code, o.stderr)
	}
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
	r := v.start(t, "run", "bank", "--auth", "vault", "--vault-auth", "approle", "--duration", "3s", "--out", dir)
	o := r.wait(t)
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

// vaultRun is a run of the binary whose stdout is read as it comes, with
// /metrics scraped while it runs.
type vaultRun struct {
	cmd     *exec.Cmd
	stderr  bytes.Buffer
	mu      sync.Mutex
	lines   []string
	newLine chan struct{}
	done    chan struct{}
	scraped []string
}

// start runs the binary serving /metrics on a port of its choosing,
// scraped from when the run prints where until the run ends.
func (v *vaultFixture) start(t *testing.T, args ...string) *vaultRun {
	t.Helper()
	r := &vaultRun{newLine: make(chan struct{}, 1), done: make(chan struct{})}
	r.cmd = exec.Command(binPath, append(args, "--metrics-addr", "127.0.0.1:0")...)
	r.cmd.Env = v.c.env
	r.cmd.Stderr = &r.stderr
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cmd.Process.Kill() })
	go r.read(stdout)
	return r
}

// read keeps stdout's lines and starts scraping /metrics once the run says
// where it serves it.
func (r *vaultRun) read(stdout io.Reader) {
	defer close(r.done)
	sc := bufio.NewScanner(stdout)
	for scraping := false; sc.Scan(); {
		if m := metricsLine.FindStringSubmatch(sc.Text()); m != nil && !scraping {
			scraping = true
			go r.scrape("http://" + m[1] + "/metrics")
		}
		r.mu.Lock()
		r.lines = append(r.lines, sc.Text())
		r.mu.Unlock()
		select {
		case r.newLine <- struct{}{}:
		default:
		}
	}
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
		r.mu.Lock()
		r.scraped = append(r.scraped, string(body))
		r.mu.Unlock()
	}
}

func (r *vaultRun) metrics() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.scraped, "\n")
}

// waitFor waits for a stdout line matching re and returns its first group.
func (r *vaultRun) waitFor(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(time.Minute)
	for seen := 0; ; {
		r.mu.Lock()
		lines := r.lines[seen:]
		seen = len(r.lines)
		r.mu.Unlock()
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				return append(m, "")[1]
			}
		}
		select {
		case <-r.newLine:
		case <-r.done:
			t.Fatalf("the run ended before a line matching %s:\n%s", re, r.stderr.String())
		case <-deadline:
			t.Fatalf("no line matching %s within a minute", re)
		}
	}
}

// wait waits for the run to end.
func (r *vaultRun) wait(t *testing.T) outcome {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(2 * time.Minute):
		_ = r.cmd.Process.Kill()
		t.Fatal("the run did not end within 2 minutes")
	}
	err := r.cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return outcome{strings.Join(r.lines, "\n"), r.stderr.String(), code}
}

// client is an API client with the stack's root token.
func (v *vaultFixture) client(t *testing.T) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = v.st.Vault.Addr
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(v.root)
	return c
}

// watchStaticPasswords reads the static role's password every 200ms until
// the returned func is called; it returns every password seen.
func (v *vaultFixture) watchStaticPasswords(t *testing.T) func() []string {
	client := v.client(t)
	seen := map[string]bool{}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			if sec, err := client.Logical().Read(stack.VaultMount + "/static-creds/" + stack.VaultStaticRole); err == nil && sec != nil {
				if pw, _ := sec.Data["password"].(string); pw != "" {
					seen[pw] = true
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return func() []string {
		close(stop)
		<-done
		var out []string
		for pw := range seen {
			out = append(out, pw)
		}
		return out
	}
}

// waitNoDynamicRoles waits until the database has no Vault-made role left:
// the run revoked its leases and the server dropped the expired ones.
func (v *vaultFixture) waitNoDynamicRoles(t *testing.T) {
	t.Helper()
	cfg, err := v.st.AdminConnConfig()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
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
	texts := map[string]string{"stdout": o.stdout, "stderr": o.stderr, "/metrics": metrics}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			texts[path] = vaultReadFile(t, path)
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

func vaultReadFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
