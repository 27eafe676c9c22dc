package vaultsrv

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
)

// Contract tests: the official client against the stand-in. Each names the
// library code and the Vault behaviour it checks.

// api/client.go (X-Vault-Token header) and api/response.go
// (Response.Error → *ResponseError); Vault answers a missing or unknown
// token with 403 {"errors":["permission denied"]}
// (vault/request_handling.go fetchACLTokenEntryAndEntity).
func TestTokenAuth(t *testing.T) {
	e := startServer(t, nil)
	readCreds(t, e.client(t, testRootToken), "readonly")

	for _, tok := range []string{"not-a-token", ""} {
		_, err := e.client(t, tok).Logical().Read("database/creds/readonly")
		wantResponseError(t, err, http.StatusForbidden, "permission denied")
	}
	// The token is checked before the route: an unknown path is 403, too.
	_, err := e.client(t, "not-a-token").Logical().Read("database/nothing-here")
	wantResponseError(t, err, http.StatusForbidden, "permission denied")
}

// api/logical.go Logical.Write → api/secret.go ParseSecret into
// SecretAuth; the login body and its errors follow
// builtin/credential/approle/path_login.go pathLoginUpdate.
func TestAppRoleLoginWithLogicalWrite(t *testing.T) {
	e := startServer(t, nil)
	c := e.client(t, "")
	s, err := c.Logical().Write("auth/approle/login", map[string]any{"role_id": testRoleID, "secret_id": testSecretID})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	a := s.Auth
	switch {
	case a == nil || !strings.HasPrefix(a.ClientToken, "hvs."):
		t.Fatalf("auth = %+v, want an hvs. service token", a)
	case a.Accessor == "" || a.EntityID == "" || !a.Orphan || !a.Renewable:
		t.Fatalf("auth = %+v, want accessor, entity, orphan, renewable", a)
	case a.LeaseDuration != int(SystemDefaultTTL/time.Second):
		t.Fatalf("lease_duration = %d, want Vault's default %d", a.LeaseDuration, int(SystemDefaultTTL/time.Second))
	case !slices.Equal(a.Policies, []string{"default"}) || !slices.Equal(a.TokenPolicies, []string{"default"}):
		t.Fatalf("policies = %v / %v", a.Policies, a.TokenPolicies)
	case a.Metadata["role_name"] != "authbench":
		t.Fatalf("metadata = %v, want role_name", a.Metadata)
	}
	c.SetToken(a.ClientToken)
	_, user, _ := readCreds(t, c, "readonly")
	if !strings.HasPrefix(user, "v-approle-readonly-") {
		t.Fatalf("username = %q, want Vault's v-<display name>-<role>-… template", user)
	}

	bad := []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"role_id": testRoleID, "secret_id": "wrong"}, "invalid role or secret ID"},
		{map[string]any{"role_id": "wrong", "secret_id": testSecretID}, "invalid role or secret ID"},
		{map[string]any{"secret_id": testSecretID}, "missing role_id"},
		{map[string]any{"role_id": testRoleID}, "missing secret_id"},
	}
	for _, b := range bad {
		_, err := e.client(t, "").Logical().Write("auth/approle/login", b.body)
		wantResponseError(t, err, http.StatusBadRequest, b.msg)
	}
}

// github.com/hashicorp/vault/api/auth/approle: AppRoleAuth.Login writes
// auth/approle/login and api/auth.go Auth.Login sets the client's token.
func TestAppRoleLoginWithAuthModule(t *testing.T) {
	e := startServer(t, nil)
	c := e.client(t, "")
	m, err := approle.NewAppRoleAuth(testRoleID, &approle.SecretID{FromString: testSecretID})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Auth().Login(context.Background(), m)
	if err != nil {
		t.Fatalf("Auth().Login: %v", err)
	}
	if c.Token() != s.Auth.ClientToken {
		t.Fatalf("client token not set from login")
	}
	readCreds(t, c, "readonly")

	bad, _ := approle.NewAppRoleAuth(testRoleID, &approle.SecretID{FromString: "wrong"})
	_, err = e.client(t, "").Auth().Login(context.Background(), bad)
	wantResponseError(t, err, http.StatusBadRequest, "invalid role or secret ID")
}

// api/auth_token.go TokenAuth.LookupSelf and RenewSelf; data fields per
// the token API docs; renewal capped by CalculateTTL.
func TestTokenLookupAndRenewSelf(t *testing.T) {
	e := startServer(t, func(c *Config) {
		c.AppRole.TokenTTL, c.AppRole.TokenMaxTTL = 10*time.Second, 15*time.Second
	})
	root, err := e.client(t, testRootToken).Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("root lookup-self: %v", err)
	}
	if id, _ := root.TokenID(); id != testRootToken {
		t.Fatalf("root id = %q", id)
	}
	if p, _ := root.TokenPolicies(); !slices.Equal(p, []string{"root"}) {
		t.Fatalf("root policies = %v", p)
	}

	c := e.client(t, "")
	login, err := c.Logical().Write("auth/approle/login", map[string]any{"role_id": testRoleID, "secret_id": testSecretID})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(login.Auth.ClientToken)
	self, err := c.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("lookup-self: %v", err)
	}
	ttl, _ := self.TokenTTL()
	renewable, _ := self.TokenIsRenewable()
	meta, _ := self.TokenMetadata()
	if ttl <= 0 || ttl > 10*time.Second || !renewable || meta["role_name"] != "authbench" {
		t.Fatalf("lookup-self ttl=%v renewable=%v meta=%v", ttl, renewable, meta)
	}

	r, err := c.Auth().Token().RenewSelf(3600)
	if err != nil {
		t.Fatalf("renew-self: %v", err)
	}
	if r.Auth.LeaseDuration > 15 || r.Auth.LeaseDuration < 13 || len(r.Warnings) != 1 {
		t.Fatalf("renew-self = %d s, warnings %q; want capped at max 15s with a warning", r.Auth.LeaseDuration, r.Warnings)
	}
	_, err = e.client(t, testRootToken).Auth().Token().RenewSelf(0)
	wantResponseError(t, err, http.StatusBadRequest, "invalid lease ID")
}

// api/secret.go ParseSecret: lease_id, lease_duration and renewable land in
// *api.Secret. path_creds_create.go: TTL = default_ttl, VALID UNTIL = lease
// expiry + 5s, lease ID = request path + "/" + random.
func TestCredsSecret(t *testing.T) {
	e := startServer(t, nil)
	start := time.Now()
	s, user, pass := readCreds(t, e.client(t, testRootToken), "readonly")
	if !strings.HasPrefix(s.LeaseID, "database/creds/readonly/") || len(s.LeaseID) != len("database/creds/readonly/")+idLength {
		t.Fatalf("lease_id = %q", s.LeaseID)
	}
	if s.LeaseDuration != 3600 || !s.Renewable || s.MountType != "database" {
		t.Fatalf("secret = %d s renewable %v mount %q, want 3600 s renewable database", s.LeaseDuration, s.Renewable, s.MountType)
	}
	if !strings.HasPrefix(user, "v-root-readonly-") || len(user) > 63 {
		t.Fatalf("username = %q", user)
	}
	if len(pass) != passwordLength || !hasEveryCharset(pass) {
		t.Fatalf("password does not follow Vault's default policy")
	}
	r, ok := e.db.role(user)
	if !ok || r.password != pass || !slices.Equal(r.grants, []string{"app_read", "app_write"}) {
		t.Fatalf("database role = %+v %v", r, ok)
	}
	if !approx(r.validUntil, start.Add(time.Hour+validUntilBuffer), 2*time.Second) {
		t.Fatalf("VALID UNTIL = %v, want now+1h+5s", r.validUntil)
	}
	if l := e.srv.Leases(); len(l) != 1 || l[0].LeaseID != s.LeaseID || l[0].Username != user {
		t.Fatalf("Leases() = %+v", l)
	}
}

// path_creds_create.go: logical.ErrorResponse("unknown role: %s") → 400,
// for creds and static-creds alike.
func TestUnknownRole(t *testing.T) {
	e := startServer(t, nil)
	c := e.client(t, testRootToken)
	_, err := c.Logical().Read("database/creds/nope")
	wantResponseError(t, err, http.StatusBadRequest, "unknown role: nope")
	_, err = c.Logical().Read("database/static-creds/nope")
	wantResponseError(t, err, http.StatusBadRequest, "unknown role: nope")
}

// api/sys_leases.go Sys.Renew (PUT sys/leases/renew); vault/expiration.go
// Renew + CalculateTTL: the TTL is capped at what is left of max_ttl, with
// Vault's warning; secret_creds.go moves VALID UNTIL.
func TestRenewCapsAtMaxTTL(t *testing.T) {
	e := startServer(t, nil)
	c := e.client(t, testRootToken)
	s, user, _ := readCreds(t, c, "readonly")

	r, err := c.Sys().Renew(s.LeaseID, 0)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	if r.LeaseID != s.LeaseID || r.LeaseDuration != 3600 || !r.Renewable || len(r.Warnings) != 0 {
		t.Fatalf("renew(0) = %+v, want the role's default 3600 s", r)
	}
	start := time.Now()
	r, err = c.Sys().Renew(s.LeaseID, 3*3600)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	if r.LeaseDuration > 7200 || r.LeaseDuration < 7198 {
		t.Fatalf("renew(3h) = %d s, want capped at max_ttl 7200 s", r.LeaseDuration)
	}
	if len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], `TTL of "3h0m0s" exceeded the effective max_ttl of "`) {
		t.Fatalf("warnings = %q", r.Warnings)
	}
	db, _ := e.db.role(user)
	if !approx(db.validUntil, start.Add(2*time.Hour+validUntilBuffer), 3*time.Second) {
		t.Fatalf("VALID UNTIL = %v, want issue+2h+5s", db.validUntil)
	}
	if l := e.srv.Leases()[0]; !approx(l.ExpireTime, l.IssueTime.Add(2*time.Hour), 0) {
		t.Fatalf("lease expires %v, want exactly issue+max_ttl", l.ExpireTime)
	}
}

// vault/expiration.go leaseEntry.renewable: "lease not found" and "lease
// expired", turned into 400 by logical_system.go handleRenew.
func TestRenewErrors(t *testing.T) {
	e := startServer(t, func(c *Config) { c.ReapInterval = time.Hour })
	c := e.client(t, testRootToken)
	_, err := c.Sys().Renew("database/creds/readonly/unknown", 0)
	wantResponseError(t, err, http.StatusBadRequest, "lease not found")
	_, err = c.Sys().Renew("", 0)
	wantResponseError(t, err, http.StatusBadRequest, "lease_id must be specified")

	s, _, _ := readCreds(t, c, "blink")
	time.Sleep(1100 * time.Millisecond)
	_, err = c.Sys().Renew(s.LeaseID, 0)
	wantResponseError(t, err, http.StatusBadRequest, "lease expired")
}

// api/sys_leases.go Sys.Revoke (PUT sys/leases/revoke) → 204; the role is
// dropped; revoking again is still 204 (expiration.go revokeCommon).
func TestRevokeDropsRole(t *testing.T) {
	e := startServer(t, nil)
	c := e.client(t, testRootToken)
	s, user, _ := readCreds(t, c, "readonly")
	if err := c.Sys().Revoke(s.LeaseID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if _, ok := e.db.role(user); ok || !e.db.wasDropped(user) {
		t.Fatalf("role %s still exists after revoke", user)
	}
	if len(e.srv.Leases()) != 0 {
		t.Fatalf("lease kept after revoke")
	}
	if err := c.Sys().Revoke(s.LeaseID); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	_, err := c.Sys().Renew(s.LeaseID, 0)
	wantResponseError(t, err, http.StatusBadRequest, "lease not found")

	// A failed drop keeps the lease (the reaper retries) and is reported.
	s, _, _ = readCreds(t, c, "readonly")
	e.db.setFailDrop(true)
	err = c.Sys().Revoke(s.LeaseID)
	var re *api.ResponseError
	if !asResponseError(err, &re) || re.StatusCode != http.StatusBadRequest || !strings.HasPrefix(re.Errors[0], "failed to revoke entry: ") {
		t.Fatalf("failed revoke = %v", err)
	}
	if len(e.srv.Leases()) != 1 {
		t.Fatalf("lease lost after a failed revoke")
	}
	e.db.setFailDrop(false)
}

// api/lifetime_watcher.go: the auth mode watches each creds secret with
// NewLifetimeWatcher; it renews through Sys().Renew until the lease stops
// growing at max_ttl and then closes DoneCh with a nil error; the reaper
// then drops the role.
func TestLifetimeWatcherEndsAtMaxTTL(t *testing.T) {
	e := startServer(t, nil)
	c := e.client(t, testRootToken)
	issued := time.Now()
	s, user, _ := readCreds(t, c, "short")
	w, err := c.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: s})
	if err != nil {
		t.Fatal(err)
	}
	go w.Start()
	defer w.Stop()

	renewals := 0
	timeout := time.After(15 * time.Second)
	for done := false; !done; {
		select {
		case err := <-w.DoneCh():
			if err != nil {
				t.Fatalf("DoneCh: %v", err)
			}
			done = true
		case r := <-w.RenewCh():
			renewals++
			if r.Secret.LeaseID != s.LeaseID {
				t.Fatalf("renewal of %q", r.Secret.LeaseID)
			}
		case <-timeout:
			t.Fatal("LifetimeWatcher did not finish")
		}
	}
	if elapsed := time.Since(issued); renewals == 0 || elapsed > 6*time.Second {
		t.Fatalf("watcher done after %v with %d renewals, want ≥1 renewal within max_ttl 4s", elapsed, renewals)
	}
	eventually(t, 4*time.Second, "role dropped at max_ttl", func() bool { return e.db.wasDropped(user) })
	// CalculateTTL works in whole seconds, so the last renewal may end the
	// lease up to a second before max_ttl, never after.
	if dropped := time.Since(issued); dropped < 3*time.Second {
		t.Fatalf("role dropped after %v, well before max_ttl 4s", dropped)
	}
}

// Leases past their expiry are revoked by the reaper (the expiration
// manager's timers): the role is dropped and the lease forgotten.
func TestReaperDropsExpiredRoles(t *testing.T) {
	e := startServer(t, nil)
	c := e.client(t, testRootToken)
	s, user, _ := readCreds(t, c, "blink")
	eventually(t, 3*time.Second, "expired lease revoked", func() bool { return e.db.wasDropped(user) })
	if len(e.srv.Leases()) != 0 {
		t.Fatal("expired lease kept")
	}
	_, err := c.Sys().Renew(s.LeaseID, 0)
	wantResponseError(t, err, http.StatusBadRequest, "lease not found")
}

// Vault revokes a token's leases when the token expires (token_store.go
// revokeTree → expiration.go RevokeByToken); the token is then 403.
func TestTokenExpiryRevokesItsLeases(t *testing.T) {
	e := startServer(t, func(c *Config) { c.AppRole.TokenTTL = 2 * time.Second })
	c := e.client(t, "")
	login, err := c.Logical().Write("auth/approle/login", map[string]any{"role_id": testRoleID, "secret_id": testSecretID})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(login.Auth.ClientToken)
	_, user, _ := readCreds(t, c, "readonly")
	eventually(t, 5*time.Second, "lease of the expired token revoked", func() bool { return e.db.wasDropped(user) })
	_, err = c.Logical().Read("database/creds/readonly")
	wantResponseError(t, err, http.StatusForbidden, "permission denied")
}

// api/sys_health.go Sys.Health (sends sealedcode=299): sealed shows in
// HealthResponse; every other endpoint is 503 {"errors":["Vault is
// sealed"]} (consts.ErrSealed, AdjustErrorStatusCode). sys/health without
// the parameters answers 503 (API docs /sys/health).
func TestSealed(t *testing.T) {
	e := startServer(t, nil)
	c := e.client(t, testRootToken)
	h, err := c.Sys().Health()
	if err != nil || h.Sealed || !h.Initialized || h.Standby || h.Version != Version || h.ClusterName != ClusterName || h.ClusterID == "" {
		t.Fatalf("unsealed health = %+v, %v", h, err)
	}

	e.srv.SetSealed(true)
	h, err = c.Sys().Health()
	if err != nil || !h.Sealed || !h.Standby || h.ClusterID != "" {
		t.Fatalf("sealed health = %+v, %v", h, err)
	}
	if code, _ := e.raw(t, http.MethodGet, "/v1/sys/health", "", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("sealed GET sys/health = %d, want 503", code)
	}
	_, err = c.Logical().Read("database/creds/readonly")
	wantResponseError(t, err, http.StatusServiceUnavailable, "Vault is sealed")
	_, err = e.client(t, "").Logical().Write("auth/approle/login", map[string]any{"role_id": testRoleID, "secret_id": testSecretID})
	wantResponseError(t, err, http.StatusServiceUnavailable, "Vault is sealed")

	e.srv.SetSealed(false)
	readCreds(t, c, "readonly")
}

// Vault's static roles (path_creds_create.go pathStaticCredsRead): the
// password rotates every rotation_period with a real ALTER ROLE; ttl counts
// down to the next rotation.
func TestStaticCredsRotate(t *testing.T) {
	e := startServer(t, func(c *Config) {
		c.StaticRoles["static-app"] = StaticRole{Username: staticUser, RotationPeriod: time.Second}
	})
	c := e.client(t, testRootToken)
	read := func() (string, map[string]any) {
		s, err := c.Logical().Read("database/static-creds/static-app")
		if err != nil || s == nil {
			t.Fatalf("static-creds: %v", err)
		}
		if s.LeaseID != "" || s.Renewable || s.LeaseDuration != 0 {
			t.Fatalf("static creds carry a lease: %+v", s)
		}
		p, _ := s.Data["password"].(string)
		return p, s.Data
	}
	first, data := read()
	db, _ := e.db.role(staticUser)
	if data["username"] != staticUser || first != db.password || first == "" {
		t.Fatalf("static creds = %v, database password set: %v", data["username"], first == db.password)
	}
	if data["rotation_period"] != json.Number("1") {
		t.Fatalf("rotation_period = %v", data["rotation_period"])
	}
	if ttl, _ := data["ttl"].(json.Number).Int64(); ttl < 0 || ttl > 1 {
		t.Fatalf("ttl = %v", data["ttl"])
	}
	if _, err := time.Parse(time.RFC3339Nano, data["last_vault_rotation"].(string)); err != nil {
		t.Fatalf("last_vault_rotation: %v", err)
	}
	eventually(t, 3*time.Second, "static password rotated", func() bool {
		r, _ := e.db.role(staticUser)
		return r.password != first
	})
	second, _ := read()
	db, _ = e.db.role(staticUser)
	if second == first || second != db.password {
		t.Fatal("static-creds does not serve the rotated password")
	}
}

// Routing as Vault's: an unknown path under a valid token is 404
// {"errors":[]} (read as a nil secret by api/logical.go); a method the path
// does not take is 405 "unsupported operation"; an HTTP method Vault maps
// to no operation is 405 {"errors":[]}.
func TestUnknownPathAndMethod(t *testing.T) {
	e := startServer(t, nil)
	c := e.client(t, testRootToken)
	for _, p := range []string{"database/nothing", "database/creds/a/b", "secret/data/x"} {
		if s, err := c.Logical().Read(p); s != nil || err != nil {
			t.Fatalf("read %s = %v, %v; want nil, nil", p, s, err)
		}
		code, body := e.raw(t, http.MethodGet, "/v1/"+p, testRootToken, "")
		if code != http.StatusNotFound || strings.TrimSpace(body) != `{"errors":[]}` {
			t.Fatalf("GET %s = %d %s", p, code, body)
		}
	}
	_, err := c.Logical().Write("database/creds/readonly", nil)
	wantResponseError(t, err, http.StatusMethodNotAllowed, "unsupported operation")
	code, body := e.raw(t, http.MethodOptions, "/v1/database/creds/readonly", testRootToken, "")
	if code != http.StatusMethodNotAllowed || strings.TrimSpace(body) != `{"errors":[]}` {
		t.Fatalf("OPTIONS = %d %s", code, body)
	}
	code, body = e.raw(t, http.MethodPut, "/v1/sys/leases/renew", testRootToken, "{not json")
	if code != http.StatusBadRequest || !strings.Contains(body, "failed to parse JSON input") {
		t.Fatalf("bad JSON = %d %s", code, body)
	}
}

func asResponseError(err error, re **api.ResponseError) bool {
	r, ok := err.(*api.ResponseError)
	*re = r
	return ok
}
