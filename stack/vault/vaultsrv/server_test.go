package vaultsrv

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/stack/vault/vaultsrv/vaultsrvtest"
)

func TestConfigValidation(t *testing.T) {
	cases := map[string]func(*Config){
		"no root token":       func(c *Config) { c.RootToken = "" },
		"no DB":               func(c *Config) { c.DB = nil },
		"role id, no secret":  func(c *Config) { c.AppRole.SecretID = "" },
		"bad role name":       func(c *Config) { c.DynamicRoles["a/b"] = DynamicRole{} },
		"ttl over max":        func(c *Config) { c.DynamicRoles["x"] = DynamicRole{DefaultTTL: 2 * time.Hour, MaxTTL: time.Hour} },
		"static without user": func(c *Config) { c.StaticRoles["s"] = StaticRole{RotationPeriod: time.Hour} },
		"static no period":    func(c *Config) { c.StaticRoles["s"] = StaticRole{Username: "u"} },
		"token ttl over max": func(c *Config) {
			c.AppRole.TokenTTL, c.AppRole.TokenMaxTTL = 2*time.Hour, time.Hour
		},
	}
	for name, mutate := range cases {
		cfg := testConfig(vaultsrvtest.NewDB())
		mutate(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	s, err := New(Config{RootToken: "r", DB: vaultsrvtest.NewDB(), DynamicRoles: map[string]DynamicRole{"d": {}}})
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Mount != DefaultMount || s.cfg.Addr != DefaultAddr || s.cfg.DynamicRoles["d"].DefaultTTL != SystemDefaultTTL {
		t.Fatalf("defaults = %+v", s.cfg)
	}
}

// sdk/framework CalculateTTL: increment over default, cap at what is left
// of max from the (second-truncated) start, refusal past max.
func TestCalculateTTL(t *testing.T) {
	issue := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name             string
		at               time.Duration
		inc, def, maxTTL time.Duration
		want             time.Duration
		warn, wantErr    bool
	}{
		{"default", 0, 0, time.Hour, 2 * time.Hour, time.Hour, false, false},
		{"increment", 10 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 30 * time.Minute, false, false},
		{"capped", 90 * time.Minute, 0, time.Hour, 2 * time.Hour, 30 * time.Minute, true, false},
		{"capped to the second", 90*time.Minute + 900*time.Millisecond, 0, time.Hour, 2 * time.Hour, 30 * time.Minute, true, false},
		{"past max", 3 * time.Hour, 0, time.Hour, 2 * time.Hour, 0, false, true},
	}
	for _, c := range cases {
		ttl, warns, err := calculateTTL(issue.Add(c.at), c.inc, c.def, c.maxTTL, issue)
		if (err != nil) != c.wantErr || ttl != c.want || (len(warns) > 0) != c.warn {
			t.Errorf("%s: ttl %v warnings %q err %v", c.name, ttl, warns, err)
		}
	}
	if _, w, _ := calculateTTL(issue, 3*time.Hour, time.Hour, 2*time.Hour, time.Time{}); len(w) != 1 ||
		w[0] != `TTL of "3h0m0s" exceeded the effective max_ttl of "2h0m0s"; TTL value is capped accordingly` {
		t.Errorf("warning = %q", w)
	}
}

// Vault's username template and default password policy.
func TestUsernameAndPassword(t *testing.T) {
	now := time.Unix(1700000000, 0)
	u := newUsername("approle", "readonly", now)
	if !regexp.MustCompile(`^v-approle-readonly-[A-Za-z0-9]{20}-1700000000$`).MatchString(u) {
		t.Fatalf("username = %q", u)
	}
	long := newUsername("displayname-long", "a-very-long-role-name", now)
	if !strings.HasPrefix(long, "v-displayn-a-very-l-") {
		t.Fatalf("long username = %q", long)
	}
	for range 100 {
		if p := newPassword(); len(p) != passwordLength || !hasEveryCharset(p) {
			t.Fatalf("password %q breaks the default policy", p)
		}
	}
}

// Serve revokes every open lease when its context ends, so a stopped
// stand-in leaves no database role behind.
func TestServeRevokesLeasesOnStop(t *testing.T) {
	db := vaultsrvtest.NewDB(staticUser)
	srv, err := New(testConfig(db))
	if err != nil {
		t.Fatal(err)
	}
	s := vaultsrvtest.Serve(t, srv)
	e := &testEnv{srv: srv, db: db, addr: s.Addr}
	_, user, _ := readCreds(t, e.client(t, testRootToken), "readonly")
	if err := s.Stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if !db.WasDropped(user) || len(srv.Leases()) != 0 {
		t.Fatal("lease left open after Serve returned")
	}
}

// Serve fails at once when a static role's first rotation fails.
func TestServeFailsWithoutStaticUser(t *testing.T) {
	srv, err := New(testConfig(vaultsrvtest.NewDB()))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(context.Background(), ln); err == nil || !strings.Contains(err.Error(), staticUser) {
		t.Fatalf("Serve = %v, want the failed rotation", err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Run prints one startup line with the address (and no secret) and serves
// until its context ends.
func TestRun(t *testing.T) {
	var log syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := testConfig(vaultsrvtest.NewDB(staticUser))
	go func() { done <- Run(ctx, cfg, &log) }()
	re := regexp.MustCompile(`listening on http://(127\.0\.0\.1:\d+) `)
	eventually(t, testWait, "startup line", func() bool { return re.MatchString(log.String()) })
	line := log.String()
	if strings.Count(line, "\n") != 1 || strings.Contains(line, testRootToken) || strings.Contains(line, testSecretID) {
		t.Fatalf("startup output = %q", line)
	}
	e := &testEnv{addr: re.FindStringSubmatch(line)[1]}
	if h, err := e.client(t, "").Sys().Health(); err != nil || h.Sealed {
		t.Fatalf("health = %+v, %v", h, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// sys/health HEAD and status-code parameters (API docs /sys/health).
func TestHealthParameters(t *testing.T) {
	e := startServer(t, nil)
	if code, body := e.raw(t, http.MethodHead, "/v1/sys/health", "", ""); code != http.StatusOK || body != "" {
		t.Fatalf("HEAD = %d %q", code, body)
	}
	if code, _ := e.raw(t, http.MethodGet, "/v1/sys/health?activecode=204", "", ""); code != http.StatusNoContent {
		t.Fatalf("activecode=204 → %d", code)
	}
	e.srv.SetSealed(true)
	if code, _ := e.raw(t, http.MethodGet, "/v1/sys/health?sealedcode=299", "", ""); code != 299 {
		t.Fatalf("sealedcode=299 → %d", code)
	}
	if code, _ := e.raw(t, http.MethodPost, "/v1/sys/health", "", ""); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST sys/health → %d", code)
	}
}
