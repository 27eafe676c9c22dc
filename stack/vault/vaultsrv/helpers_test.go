package vaultsrv

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/authbench/authbench/stack/vault/vaultsrv/vaultsrvtest"
)

const (
	testRootToken = "root-token-for-tests"
	testRoleID    = "role-id-for-tests"
	testSecretID  = "secret-id-for-tests"
	staticUser    = "app_static"
	// testWait bounds how long a test waits for something the server does
	// in the background (reaping, rotating, starting up). It is generous:
	// CI machines can be slow and busy, and it only matters on failure.
	testWait = 30 * time.Second
	// shortTTL and shortMaxTTL are the short role's TTLs. The
	// LifetimeWatcher renews with a margin of at least a tenth of the TTL
	// (its grace period) before the lease ends, so the TTL must be long
	// enough for a renewal to arrive in time on a busy machine.
	shortTTL    = 10 * time.Second
	shortMaxTTL = 20 * time.Second
)

// testConfig has a long-lived role (readonly), a short one for the
// LifetimeWatcher (short: shortTTL, max shortMaxTTL), one that expires at
// once (blink: 1s) and a static role on an existing user.
func testConfig(db DB) Config {
	return Config{
		RootToken: testRootToken,
		AppRole:   AppRole{RoleName: "authbench", RoleID: testRoleID, SecretID: testSecretID},
		DynamicRoles: map[string]DynamicRole{
			"readonly": {DefaultTTL: time.Hour, MaxTTL: 2 * time.Hour, GrantRoles: []string{"app_read", "app_write"}},
			"short":    {DefaultTTL: shortTTL, MaxTTL: shortMaxTTL},
			"blink":    {DefaultTTL: time.Second, MaxTTL: time.Second},
		},
		StaticRoles:  map[string]StaticRole{"static-app": {Username: staticUser, RotationPeriod: time.Hour}},
		DB:           db,
		ReapInterval: 50 * time.Millisecond,
		// Rotations are checked at each reap, not on OpenBao's 5s queue,
		// so that a 1s rotation period rotates within the test's wait.
		StaticQueueTick: 50 * time.Millisecond,
	}
}

// testEnv is a running server on 127.0.0.1 backed by an in-memory DB.
type testEnv struct {
	srv  *Server
	db   *vaultsrvtest.DB
	addr string
}

// startServer serves testConfig, changed by mutate, until the test ends.
func startServer(t *testing.T, mutate func(*Config)) *testEnv {
	t.Helper()
	db := vaultsrvtest.NewDB(staticUser)
	cfg := testConfig(db)
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &testEnv{srv: srv, db: db, addr: vaultsrvtest.Serve(t, srv).Addr}
}

// client is the official client pointed at the server with token (none if
// empty). Retries are off: the library retries 5xx twice by default
// (api/client.go DefaultConfig, MaxRetries), which only slows the 503 tests.
func (e *testEnv) client(t *testing.T, token string) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = "http://" + e.addr
	cfg.MaxRetries = 0
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatalf("api.NewClient: %v", err)
	}
	c.SetToken(token) // also overrides any VAULT_TOKEN in the environment
	return c
}

// raw sends a plain HTTP request and returns the status and body.
func (e *testEnv) raw(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+e.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// wantResponseError checks err is the library's *api.ResponseError with the
// status and the exact errors list (api/response.go Response.Error).
func wantResponseError(t *testing.T, err error, status int, errs ...string) {
	t.Helper()
	var re *api.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v (%T), want *api.ResponseError", err, err)
	}
	if re.StatusCode != status || !slices.Equal(re.Errors, errs) || re.RawError {
		t.Fatalf("ResponseError = %d %q (raw %v), want %d %q", re.StatusCode, re.Errors, re.RawError, status, errs)
	}
}

// readCreds reads <mount>/creds/<role> and checks it parsed into a secret.
func readCreds(t *testing.T, c *api.Client, role string) (*api.Secret, string, string) {
	t.Helper()
	s, err := c.Logical().Read("database/creds/" + role)
	if err != nil {
		t.Fatalf("read creds/%s: %v", role, err)
	}
	if s == nil {
		t.Fatalf("read creds/%s: no secret", role)
	}
	user, _ := s.Data["username"].(string)
	pass, _ := s.Data["password"].(string)
	if user == "" || pass == "" {
		t.Fatalf("creds data = %v, want username and password", s.Data)
	}
	return s, user, pass
}

// eventually polls cond every 20ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// minLeft is the least a lease or token with max TTL maxTTL, issued after
// since, can have left now in Vault's whole seconds: CalculateTTL truncates
// the issue time and now to the second, which costs up to one more second.
func minLeft(maxTTL time.Duration, since time.Time) int {
	return seconds(maxTTL) - seconds(time.Since(since)) - 1
}
