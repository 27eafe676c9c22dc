package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authbench/authbench/authmodes/authmodestest"
	"github.com/authbench/authbench/fix"
)

// tokenArgs are the flags of a run with the planted token.
func tokenArgs(t *testing.T, addr string, extra ...string) []string {
	dir := t.TempDir()
	return append([]string{"--vault-addr", addr, "--vault-role", "bench",
		"--vault-token-file", writeFile(t, dir, "token", testToken)}, extra...)
}

func TestDynamicCredentialsRotateAndRetire(t *testing.T) {
	s := startServer(t, 3*time.Second, time.Minute, time.Hour)
	m, rec, cfg := configured(t, tokenArgs(t, s.addr)...)
	user, pw := credentials(t, cfg)
	if !strings.HasPrefix(user, "v-token-bench-") || cfg.ConnConfig.User != user || pw != s.db.Password(user) {
		t.Fatalf("BeforeConnect gave user %q (pool user %q); the password must be the one the server set", user, cfg.ConnConfig.User)
	}
	first := m.k.current()
	tag := &connTag{set: first, jitter: 0.5}
	if !m.k.keepTagged(tag, 1, time.Now()) {
		t.Error("a connection of the current credentials was retired")
	}
	if r := rec.WaitKind(t, "rotation", 1, 10*time.Second)[0]; !r.Rotation || r.Source != "vault" || !strings.Contains(r.Detail, "due at 66%") {
		t.Errorf("rotation event %+v", r)
	}
	if c := rec.Kind("credentials"); len(c) != 1 || c[0].Rotation {
		t.Errorf("the first set must be one non-rotation credentials event, got %+v", c)
	}
	if len(rec.Kind("renewal")) == 0 || len(rec.Phases("credential")) < 2 {
		t.Errorf("renewals %d, credential phases %d: want renewals and a phase per background read", len(rec.Kind("renewal")), len(rec.Phases("credential")))
	}
	newUser, _ := credentials(t, cfg)
	if newUser == user {
		t.Fatal("new connections still get the old user after a rotation")
	}
	at, retiring := first.retireAt(0.5)
	if !retiring {
		t.Fatal("the superseded set is not retiring")
	}
	if m.k.keepTagged(tag, 7, at.Add(time.Millisecond)) {
		t.Error("a connection of the old user survived its retirement moment")
	}
	if len(rec.Kind("retire")) != 1 || m.Settings()["retired_connections"] != "1" {
		t.Errorf("retire events %d, settings %v", len(rec.Kind("retire")), m.Settings())
	}
	m.Close()
	if left := s.db.RolesWithPrefix("v-"); len(left) != 0 {
		t.Errorf("Close left database roles behind: %v", left)
	}
	assertNoSecrets(t, rec.Text(), pw)
}

func TestRetireJitterSpreadsOverTheSpan(t *testing.T) {
	set := &credSet{leaseID: "l"}
	now := time.Now()
	set.supersede(now, 4*time.Second)
	a, _ := set.retireAt(0)
	b, _ := set.retireAt(0.5)
	c, _ := set.retireAt(0.999)
	if !a.Equal(now) || !b.Equal(now.Add(2*time.Second)) || !c.Before(now.Add(4*time.Second)) {
		t.Errorf("retire moments %v %v %v from %v", a, b, c, now)
	}
	static := &credSet{}
	static.mark(flagRejected)
	if _, retiring := static.retireAt(0); retiring {
		t.Error("connections of a static role are retired when its password changed")
	}
	revoked := &credSet{leaseID: "l2"}
	revoked.mark(flagRevoked)
	if at, retiring := revoked.retireAt(0.9); !retiring || !at.IsZero() {
		t.Error("connections of a revoked lease must be retired at once")
	}
}

// TestRevokedLeaseLeadsToNewCredentials: a revoked lease shows either as
// the server ending its sessions (57P01) or, when no session used it yet,
// as a refused login (28P01); either way Vault is asked, the event is a
// revocation (a rotation event), and the next connection gets a new user.
func TestRevokedLeaseLeadsToNewCredentials(t *testing.T) {
	for _, code := range []string{"57P01", "28P01"} {
		t.Run(code, func(t *testing.T) {
			s := startServer(t, time.Minute, time.Hour, time.Hour)
			m, rec, cfg := configured(t, tokenArgs(t, s.addr)...)
			cc := connConfig(t, cfg)
			set := m.k.current()
			if err := s.srv.RevokeAll(context.Background()); err != nil {
				t.Fatal(err)
			}
			cc.OnPgError(nil, &pgconn.PgError{Severity: "FATAL", Code: code})
			if user, _ := credentials(t, cfg); user == set.username {
				t.Fatal("after a revocation the next connection still gets the revoked user")
			}
			rev := rec.Kind("revocation")
			if len(rev) != 1 || !rev[0].Rotation || !strings.Contains(rev[0].Detail, set.leaseID) {
				t.Errorf("revocation events %+v", rev)
			}
			if r := rec.Kind("rotation"); len(r) != 1 || !strings.Contains(r[0].Detail, "revoked") {
				t.Errorf("rotation events %+v", r)
			}
			if m.k.keepTagged(&connTag{set: set}, 1, time.Now()) {
				t.Error("a connection of revoked credentials is handed out")
			}
		})
	}
}

func TestRefusedCredentialsAreReplaced(t *testing.T) {
	s := startServer(t, time.Minute, time.Hour, time.Hour)
	_, rec, cfg := configured(t, tokenArgs(t, s.addr)...)
	cc := connConfig(t, cfg)
	if keepOpen := cc.OnPgError(nil, &pgconn.PgError{Severity: "FATAL", Code: "28P01"}); keepOpen {
		t.Error("a FATAL error must still close the connection")
	}
	user, _ := credentials(t, cfg)
	if user == cc.User || len(rec.Kind("rejected")) != 1 {
		t.Errorf("after 28P01: user %q (was %q), rejected events %d", user, cc.User, len(rec.Kind("rejected")))
	}
	if rev := rec.Kind("revocation"); len(rev) != 0 {
		t.Errorf("Vault still has the lease, yet revocation events %+v", rev)
	}
}

func TestStaticRoleFollowsRotation(t *testing.T) {
	s := startServer(t, time.Minute, time.Hour, time.Second)
	_, rec, cfg := configured(t, tokenArgs(t, s.addr, "--vault-role", "", "--vault-static-role", "bench-static")...)
	user, pw := credentials(t, cfg)
	if user != staticUser || pw != s.db.Password(staticUser) {
		t.Fatalf("static credentials: user %q, password matches the server's: %v", user, pw == s.db.Password(staticUser))
	}
	rotation := rec.WaitKind(t, "rotation", 1, 10*time.Second)[0]
	_, pw2 := credentials(t, cfg)
	if pw2 == pw || !strings.Contains(rotation.Detail, "new password") {
		t.Errorf("after Vault's rotation: same password %v, event %+v", pw2 == pw, rotation)
	}
	assertNoSecrets(t, rec.Text(), pw, pw2)
}

func TestAppRoleLogin(t *testing.T) {
	s := startServer(t, time.Minute, time.Hour, time.Hour)
	dir := t.TempDir()
	args := []string{"--vault-addr", s.addr, "--vault-role", "bench", "--vault-auth", "approle",
		"--vault-role-id-file", writeFile(t, dir, "role-id", testRoleID),
		"--vault-secret-id-file", writeFile(t, dir, "secret-id", testSecretID)}
	rec := &authmodestest.Recorder{}
	cfg, err := configure(t, newTestMode(t, args...), rec)
	if err != nil {
		t.Fatal(err)
	}
	if user, _ := credentials(t, cfg); !strings.HasPrefix(user, "v-approle-bench-") {
		t.Errorf("AppRole credentials for user %q", user)
	}
	if l := rec.Kind("login"); len(l) != 1 || !strings.Contains(l[0].Detail, "AppRole") {
		t.Errorf("login events %+v", l)
	}
}

func TestOneLineErrors(t *testing.T) {
	s := startServer(t, time.Minute, time.Hour, time.Hour)
	dir := t.TempDir()
	badToken := writeFile(t, dir, "bad-token", "hvs.not-a-token-9999")
	wrongSecret := writeFile(t, dir, "wrong-secret", "wrong-secret-id-1234")
	roleID := writeFile(t, dir, "role-id", testRoleID)
	closed := closedAddr(t)
	denied := denyCreds(t, s.addr)
	cases := []struct {
		name   string
		args   []string
		want   string
		ref    fix.Flag // a setting the fix must name, or ""
		status int      // the HTTP status of the *api.ResponseError in the chain, or 0
		seal   bool
	}{
		{"unreachable", tokenArgs(t, closed), "unreachable", "vault-addr", 0, false},
		{"sealed", tokenArgs(t, s.addr), "sealed", "", 0, true},
		{"bad token", []string{"--vault-addr", s.addr, "--vault-role", "bench", "--vault-token-file", badToken}, "refused the token", "vault-token-file", 403, false},
		{"bad approle", []string{"--vault-addr", s.addr, "--vault-role", "bench", "--vault-auth", "approle",
			"--vault-role-id-file", roleID, "--vault-secret-id-file", wrongSecret}, "refused the AppRole login", "vault-secret-id-file", 0, false},
		{"unknown role", tokenArgs(t, s.addr, "--vault-role", "nosuch"), `no role "nosuch"`, "vault-role", 400, false},
		{"unknown static role", tokenArgs(t, s.addr, "--vault-role", "", "--vault-static-role", "nosuch"), "nosuch", "vault-static-role", 0, false},
		{"permission denied", tokenArgs(t, denied), "permission denied", "", 403, false},
		{"no mount", tokenArgs(t, s.addr, "--vault-mount", "elsewhere"), "elsewhere", "vault-mount", 0, false},
		{"no address", []string{"--vault-role", "bench"}, "no Vault address", "vault-addr", 0, false},
		{"bad fraction", tokenArgs(t, s.addr, "--vault-refresh-fraction", "1"), "got 1", "vault-refresh-fraction", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.srv.SetSealed(tc.seal)
			defer s.srv.SetSealed(false)
			_, err := configure(t, newTestMode(t, tc.args...), &authmodestest.Recorder{})
			if err == nil {
				t.Fatal("Configure succeeded")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q: want one line mentioning %q", msg, tc.want)
			}
			assertNoSecrets(t, msg, "wrong-secret-id-1234", "hvs.not-a-token-9999")
			if tc.ref != "" && !fix.Refers(err, tc.ref) {
				t.Errorf("error %q does not name the %s setting", msg, tc.ref)
			}
			var re *api.ResponseError
			if tc.status != 0 && (!errors.As(err, &re) || re.StatusCode != tc.status) {
				t.Errorf("error %q: no *api.ResponseError with status %d in its chain (%v)", msg, tc.status, re)
			}
		})
	}
}

func TestSecretsAreRedacted(t *testing.T) {
	set := &credSet{username: "u", password: newSecret("hunter2-planted")}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		assertNoSecrets(t, fmt.Sprintf(f, set)+fmt.Sprintf(f, set.password), "hunter2-planted")
	}
	m := newTestMode(t, "--vault-addr", "http://127.0.0.1:1", "--vault-role", "bench", "--vault-token-file", "/some/file")
	assertNoSecrets(t, fmt.Sprint(m.Settings()), testToken)
}

// assertNoSecrets fails when text holds a planted secret.
func assertNoSecrets(t *testing.T, text string, extra ...string) {
	t.Helper()
	for _, s := range append([]string{testToken, testSecretID, testRoleID}, extra...) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("a secret leaked into %q", text)
		}
	}
}

// closedAddr is an address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// denyCreds fronts the server with a proxy that answers reads of creds as
// Vault does for a token whose policies do not allow them: 403.
func denyCreds(t *testing.T, addr string) string {
	u, _ := url.Parse(addr)
	proxy := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/creds/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"errors":["1 error occurred:\n\t* permission denied\n\n"]}`)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func TestForcedRotationRevokesTheOldLease(t *testing.T) {
	s := startServer(t, time.Minute, time.Hour, time.Hour)
	m, rec, cfg := configured(t, tokenArgs(t, s.addr, "--vault-retire-jitter", "0s")...)
	old := m.k.current()
	detail, err := m.ForceRotation(context.Background())
	if err != nil || !strings.Contains(detail, old.leaseID) {
		t.Fatalf("ForceRotation: %q, %v", detail, err)
	}
	if user, _ := credentials(t, cfg); user == old.username {
		t.Fatal("a forced rotation did not change the user")
	}
	if r := rec.Kind("rotation"); len(r) != 1 || r[0].Rotation {
		t.Errorf("a forced rotation's own event must not be a rotation event (the driver records one): %+v", r)
	}
	if rev := rec.WaitKind(t, "revocation", 1, 20*time.Second); len(rev) != 1 {
		t.Errorf("revocation events %v, want the old lease's alone", rev)
	}
	for _, name := range s.db.RolesWithPrefix("v-") {
		if name == old.username {
			t.Errorf("role %s of the revoked old lease still exists", name)
		}
	}
	static := newTestMode(t, tokenArgs(t, s.addr, "--vault-role", "", "--vault-static-role", "bench-static")...)
	if _, err := configure(t, static, &authmodestest.Recorder{}); err != nil {
		t.Fatal(err)
	}
	if _, err := static.ForceRotation(context.Background()); !fix.Refers(err, fix.Flag("vault-role")) {
		t.Errorf("forcing a static role's rotation: %v", err)
	}
}
