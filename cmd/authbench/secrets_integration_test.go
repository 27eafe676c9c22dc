package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/stack/vault"
)

// TestSecretsNeverLeak plants a known database password and reads the
// stack's Vault root token, AppRole role_id and secret_id, runs password
// (with rotations, whose new passwords are collected too) and vault runs,
// a report and a merge, and asserts that no secret appears in any output:
// stdout, stderr, the run directories, /metrics scraped during the runs,
// the HTML report, the stack's own state and logs. It also checks the
// stack's secret files are 0600 and that TLS is verify-full unless
// --insecure weakens it, which the summary then says.
func TestSecretsNeverLeak(t *testing.T) {
	st := stacktest.Start(t, func(c *stack.Config) { vault.Enable(c, vault.Settings{}) })
	c := newCLI(t, st)
	c.mustRun("init", "bank", "--accounts", "200")
	sec := &secrets{}
	sec.plantPassword(t, st)
	for _, path := range []string{vault.Of(st).TokenFile, vault.Of(st).RoleIDFile, vault.Of(st).SecretIDFile} {
		sec.add(t, strings.TrimSpace(readFile(t, path)))
	}
	base := t.TempDir()
	dirs := map[string]string{}
	var scraped []string
	for _, r := range []struct {
		name string
		args []string
	}{
		{"password", []string{"--auth", "password", "--rotate-every", "2s", "--duration", "5s"}},
		{"vault-token", []string{"--auth", "vault", "--duration", "3s"}},
		{"vault-approle", []string{"--auth", "vault", "--vault-auth", "approle", "--duration", "3s"}},
	} {
		dirs[r.name] = filepath.Join(base, r.name)
		scraped = append(scraped, sec.runScraped(t, c, st, dirs[r.name], r.args...))
	}
	sec.outputs = append(sec.outputs, c.mustRun("merge", dirs["password"], dirs["vault-token"], dirs["vault-approle"], "--out", filepath.Join(base, "merged")))
	sec.outputs = append(sec.outputs, c.mustRun("check", "bank", "--run", filepath.Join(base, "merged")))
	sec.outputs = append(sec.outputs, c.mustRun("report", base, "--out", filepath.Join(base, "report.html")))

	sec.assertAbsent(t, "/metrics", strings.Join(scraped, "\n"))
	sec.assertOutputsClean(t)
	sec.assertTreeClean(t, base, func(string) bool { return false })
	// The stack's state and its servers' logs; not the secret files.
	sec.assertTreeClean(t, st.Dir, func(rel string) bool { return rel == "pg/data" || isSecretFile(rel) })
	assertSecretModes(t, st.Dir)
	testTLSWeakening(t, c, st)
}

// secrets are the values no output may hold, and the outputs seen.
type secrets struct {
	mu      sync.Mutex
	values  []string
	outputs []outcome
}

func (s *secrets) add(t *testing.T, v string) {
	t.Helper()
	if len(v) < 8 {
		t.Fatalf("secret %q is too short to search for", v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.values {
		if x == v {
			return
		}
	}
	s.values = append(s.values, v)
}

func (s *secrets) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.values...)
}

// plantPassword gives the password user a known password, in the database
// and in its password file.
func (s *secrets) plantPassword(t *testing.T, st *stack.State) {
	t.Helper()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	pw := "planted" + hex.EncodeToString(b) // letters and digits: safe in a literal
	user, _ := st.FirstUser(stack.MethodPassword)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := st.ExecAdmin(ctx, `ALTER ROLE "`+user.Name+`" PASSWORD '`+pw+`'`); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.PasswordFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.add(t, pw)
}

// runScraped runs the bank with args, scrapes /metrics while it runs and
// collects every password the password file holds meanwhile (rotations
// write new ones); it returns what was scraped.
func (s *secrets) runScraped(t *testing.T, c *cli, st *stack.State, dir string, args ...string) string {
	t.Helper()
	addr := freeAddr(t).addr
	r := startRun(t, c, append([]string{"run", "bank", "--concurrency", "4", "--metrics-addr", addr, "--out", dir}, args...)...)
	var scraped strings.Builder
	client := &http.Client{Timeout: 2 * time.Second}
	for done := false; !done; {
		select {
		case <-r.done:
			done = true
		case <-time.After(150 * time.Millisecond):
		}
		if resp, err := client.Get("http://" + addr + "/metrics"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			scraped.Write(body)
		}
		if pw := strings.TrimSpace(readFile(t, st.PasswordFile)); pw != "" {
			s.add(t, pw)
		}
	}
	r.wait(t)
	s.outputs = append(s.outputs, outcome{r.stdout.String(), r.stderr.String(), 0})
	if !strings.Contains(scraped.String(), "authbench_") {
		t.Errorf("no authbench metric scraped from %s during the run", addr)
	}
	return scraped.String()
}

// assertAbsent fails for every secret found in text.
func (s *secrets) assertAbsent(t *testing.T, where, text string) {
	t.Helper()
	for i, v := range s.all() {
		if strings.Contains(text, v) {
			t.Errorf("secret #%d (%s…) appears in %s", i, v[:4], where)
		}
	}
}

func (s *secrets) assertOutputsClean(t *testing.T) {
	t.Helper()
	for i, o := range s.outputs {
		s.assertAbsent(t, "the stdout of command #"+strconv.Itoa(i), o.stdout)
		s.assertAbsent(t, "the stderr of command #"+strconv.Itoa(i), o.stderr)
	}
}

// assertTreeClean searches every file under root but those (and the
// directories) skip says to leave out, by path relative to root.
func (s *secrets) assertTreeClean(t *testing.T, root string, skip func(rel string) bool) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case skip(rel) && d.IsDir():
			return filepath.SkipDir
		case skip(rel) || !d.Type().IsRegular():
			return nil
		}
		n++
		s.assertAbsent(t, path, readFile(t, path))
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("searched %d files under %s: %v", n, root, err)
	}
}

// assertSecretModes checks every key, keytab, token and password file the
// stack wrote is readable by its owner only.
func assertSecretModes(t *testing.T, dir string) {
	t.Helper()
	var seen []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || !isSecretFile(path) {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		seen = append(seen, filepath.Base(path))
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %o, want 0600", path, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ca.key", "server.key", "root-token", "secret-id", "password.bench_password"} {
		if !strings.Contains(" "+strings.Join(seen, " ")+" ", " "+want+" ") {
			t.Errorf("the stack wrote no %s (saw %v)", want, seen)
		}
	}
}

// isSecretFile reports whether the stack keeps a secret in path: a private
// key, a keytab, the KDC's stash, a password, a Vault token or AppRole
// credential.
func isSecretFile(path string) bool {
	base := filepath.Base(path)
	return strings.HasSuffix(base, ".key") || strings.HasSuffix(base, ".keytab") ||
		strings.HasPrefix(base, "password.") || base == "stash" ||
		base == "root-token" || base == "role-id" || base == "secret-id"
}

// testTLSWeakening runs verify-full (the default) and --sslmode require
// --insecure, and checks summary.json and the printed summary say which.
func testTLSWeakening(t *testing.T, c *cli, st *stack.State) {
	t.Helper()
	for _, tc := range []struct {
		args     []string
		mode     string
		weakened bool
		line     string
	}{
		{nil, "verify-full", false, "TLS: sslmode=verify-full"},
		{[]string{"--sslmode", "require", "--insecure"}, "require", true, "TLS: WEAKENED to sslmode=require by --insecure"},
	} {
		dir := filepath.Join(t.TempDir(), "run")
		o := c.mustRun(append([]string{"run", "bank", "--duration", "1s", "--concurrency", "2", "--metrics-addr", "", "--out", dir}, tc.args...)...)
		s := readSummary(t, dir)
		if s.Server.TLS != tc.mode || s.Server.TLSWeakened != tc.weakened || !strings.Contains(o.stdout, tc.line) {
			t.Errorf("%v: summary tls %q weakened %v, want %q %v; stdout has %q: %v",
				tc.args, s.Server.TLS, s.Server.TLSWeakened, tc.mode, tc.weakened, tc.line, strings.Contains(o.stdout, tc.line))
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
