package vaultsrv

import (
	"context"
	"encoding/json"
	"fmt"
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
	const tokenTTL, tokenMaxTTL = time.Minute, 2 * time.Minute
	e := startServer(t, func(c *Config) {
		c.AppRole.TokenTTL, c.AppRole.TokenMaxTTL = tokenTTL, tokenMaxTTL
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
	issued := time.Now()
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
	if ttl <= 0 || ttl > tokenTTL || !renewable || meta["role_name"] != "authbench" {
		t.Fatalf("lookup-self ttl=%v renewable=%v meta=%v", ttl, renewable, meta)
	}

	r, err := c.Auth().Token().RenewSelf(3600)
	if err != nil {
		t.Fatalf("renew-self: %v", err)
	}
	// Capped at what is left of the max TTL since the login: never more
	// than the max, at least the max less the seconds since the login.
	if d := r.Auth.LeaseDuration; d > seconds(tokenMaxTTL) || d < minLeft(tokenMaxTTL, issued) || len(r.Warnings) != 1 {
		t.Fatalf("renew-self = %d s, warnings %q; want capped at what is left of max %s (at least %d s) with a warning",
			d, r.Warnings, tokenMaxTTL, minLeft(tokenMaxTTL, issued))
	}
	_, err = e.client(t, testRootToken).Auth().Token().RenewSelf(0)
	wantResponseError(t, err, http.StatusBadRequest, "lease is not renewable")
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
	if !strings.HasPrefix(user, "v-token-readonly-") || len(user) > 63 {
		t.Fatalf("username = %q", user)
	}
	if len(pass) != passwordLength || !hasEveryCharset(pass) {
		t.Fatalf("password does not follow Vault's default policy")
	}
	r, ok := e.db.Role(user)
	if !ok || r.Password != pass || !slices.Equal(r.Grants, []string{"app_read", "app_write"}) {
		t.Fatalf("database role = %+v %v", r, ok)
	}
	l := e.srv.Leases()
	if len(l) != 1 || l[0].LeaseID != s.LeaseID || l[0].Username != user {
		t.Fatalf("Leases() = %+v", l)
	}
	if l[0].IssueTime.Before(start) || l[0].IssueTime.After(time.Now()) {
		t.Fatalf("lease issued at %v, outside the read", l[0].IssueTime)
	}
	if !l[0].ExpireTime.Equal(l[0].IssueTime.Add(time.Hour)) || !r.ValidUntil.Equal(l[0].ExpireTime.Add(validUntilBuffer)) {
		t.Fatalf("lease issued %v expires %v, VALID UNTIL %v; want issue+1h and issue+1h+5s", l[0].IssueTime, l[0].ExpireTime, r.ValidUntil)
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
	issued := time.Now()
	s, user, _ := readCreds(t, c, "readonly")

	r, err := c.Sys().Renew(s.LeaseID, 0)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	if r.LeaseID != s.LeaseID || r.LeaseDuration != 3600 || !r.Renewable || len(r.Warnings) != 0 {
		t.Fatalf("renew(0) = %+v, want the role's default 3600 s", r)
	}
	r, err = c.Sys().Renew(s.LeaseID, 3*3600)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	if least := minLeft(2*time.Hour, issued); r.LeaseDuration > 7200 || r.LeaseDuration < least {
		t.Fatalf("renew(3h) = %d s, want capped at what is left of max_ttl 7200 s (at least %d s)", r.LeaseDuration, least)
	}
	if len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], `TTL of "3h0m0s" exceeded the effective max_ttl of "`) {
		t.Fatalf("warnings = %q", r.Warnings)
	}
	// Whole-second truncation may end the lease up to a second before
	// issue+max_ttl (when the renewal's fraction of a second is below the
	// issue's), never after it.
	l := e.srv.Leases()[0]
	if end := l.IssueTime.Add(2 * time.Hour); l.ExpireTime.After(end) || !l.ExpireTime.After(end.Add(-time.Second)) {
		t.Fatalf("lease issued %v expires %v, want within the second before issue+max_ttl", l.IssueTime, l.ExpireTime)
	}
	if db, _ := e.db.Role(user); !db.ValidUntil.Equal(l.ExpireTime.Add(validUntilBuffer)) {
		t.Fatalf("VALID UNTIL = %v, want the lease's expiry %v + 5s", db.ValidUntil, l.ExpireTime)
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
	if _, ok := e.db.Role(user); ok || !e.db.WasDropped(user) {
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
	e.db.SetFailDrop(true)
	err = c.Sys().Revoke(s.LeaseID)
	var re *api.ResponseError
	if !asResponseError(err, &re) || re.StatusCode != http.StatusBadRequest || !strings.HasPrefix(re.Errors[0], "failed to revoke entry: ") {
		t.Fatalf("failed revoke = %v", err)
	}
	if len(e.srv.Leases()) != 1 {
		t.Fatalf("lease lost after a failed revoke")
	}
	e.db.SetFailDrop(false)
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
	timeout := time.After(shortMaxTTL + testWait)
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
	if renewals == 0 {
		t.Fatal("watcher done without a renewal")
	}
	eventually(t, testWait, "role dropped at max_ttl", func() bool { return e.db.WasDropped(user) })
	// CalculateTTL works in whole seconds, so the last renewal may end the
	// lease up to a second before max_ttl, never earlier. (A lower bound:
	// a slow machine only makes the role live longer.)
	if dropped := time.Since(issued); dropped < shortMaxTTL-time.Second {
		t.Fatalf("role dropped after %v, well before max_ttl %v", dropped, shortMaxTTL)
	}
}

// Leases past their expiry are revoked by the reaper (the expiration
// manager's timers): the role is dropped and the lease forgotten.
func TestReaperDropsExpiredRoles(t *testing.T) {
	e := startServer(t, nil)
	c := e.client(t, testRootToken)
	s, user, _ := readCreds(t, c, "blink")
	eventually(t, testWait, "expired lease revoked", func() bool { return e.db.WasDropped(user) })
	if len(e.srv.Leases()) != 0 {
		t.Fatal("expired lease kept")
	}
	_, err := c.Sys().Renew(s.LeaseID, 0)
	wantResponseError(t, err, http.StatusBadRequest, "lease not found")
}

// Vault revokes a token's leases when the token expires (token_store.go
// revokeTree → expiration.go RevokeByToken); the token is then 403. The
// token's TTL must outlast the login and the read on a busy machine.
func TestTokenExpiryRevokesItsLeases(t *testing.T) {
	e := startServer(t, func(c *Config) { c.AppRole.TokenTTL = 5 * time.Second })
	c := e.client(t, "")
	login, err := c.Logical().Write("auth/approle/login", map[string]any{"role_id": testRoleID, "secret_id": testSecretID})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(login.Auth.ClientToken)
	_, user, _ := readCreds(t, c, "readonly")
	eventually(t, testWait, "lease of the expired token revoked", func() bool { return e.db.WasDropped(user) })
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
	// read returns the password static-creds serves and checks the database
	// had it during the read. With a 1s period a rotation may land in the
	// read, so that is the password current when the read began, a newer
	// one, or the one before (rotate runs ALTER ROLE, then serves).
	read := func() (string, map[string]any) {
		before := len(e.db.PasswordsOf(staticUser))
		s, err := c.Logical().Read("database/static-creds/static-app")
		if err != nil || s == nil {
			t.Fatalf("static-creds: %v", err)
		}
		if s.LeaseID != "" || s.Renewable || s.LeaseDuration != 0 {
			t.Fatalf("static creds carry a lease: %+v", s)
		}
		p, _ := s.Data["password"].(string)
		if set := e.db.PasswordsOf(staticUser); p == "" || !slices.Contains(set[max(0, before-2):], p) {
			t.Fatalf("static-creds served a password the database did not have during the read (%d set before, %d after)", before, len(set))
		}
		return p, s.Data
	}
	first, data := read()
	if data["username"] != staticUser {
		t.Fatalf("static creds username = %v", data["username"])
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
	// read checks every password served was set in the database, so a new
	// one proves a rotation with ALTER ROLE.
	eventually(t, testWait, "static-creds serves a rotated password", func() bool {
		second, _ := read()
		return second != first
	})
}

// Routing as OpenBao's: an unknown path under a valid token is 404, inside
// a mount "unsupported path", elsewhere "no handler for route" naming it
// (read as a nil secret by api/logical.go); a method the path
// does not take is 405 "unsupported operation"; an HTTP method Vault maps
// to no operation is 405 {"errors":[]}.
func TestUnknownPathAndMethod(t *testing.T) {
	e := startServer(t, nil)
	c := e.client(t, testRootToken)
	unsupported := `{"errors":["1 error occurred:\n\t* unsupported path\n\n"]}`
	for p, want := range map[string]string{
		"database/nothing": unsupported, "database/creds/a/b": unsupported,
		"secret/data/x": `{"errors":["no handler for route \"secret/data/x\". route entry not found."]}`,
	} {
		if s, err := c.Logical().Read(p); s != nil || err != nil {
			t.Fatalf("read %s = %v, %v; want nil, nil", p, s, err)
		}
		code, body := e.raw(t, http.MethodGet, "/v1/"+p, testRootToken, "")
		if code != http.StatusNotFound || strings.TrimSpace(body) != want {
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

// auth/token/revoke-self (api/auth_token.go RevokeSelf): the token is 403
// at once and the leases it read are revoked with it, as OpenBao's
// token store does; sys/leases/lookup, its LIST form and
// sys/leases/revoke-prefix answer as OpenBao's (differential_test.go holds
// them to a real one).
func TestRevokeSelfLookupAndPrefix(t *testing.T) {
	e := startServer(t, nil)
	root := e.client(t, testRootToken)
	c := e.client(t, "")
	login, err := c.Logical().Write("auth/approle/login", map[string]any{"role_id": testRoleID, "secret_id": testSecretID})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(login.Auth.ClientToken)
	s, user, _ := readCreds(t, c, "readonly")
	l, err := root.Sys().Lookup(s.LeaseID)
	if err != nil || l.Data["id"] != s.LeaseID || l.Data["path"] != "database/creds/readonly" || l.Data["last_renewal"] != nil {
		t.Fatalf("lookup = %+v, %v", l, err)
	}
	list, err := root.Logical().List("sys/leases/lookup/database/creds/")
	if err != nil || list == nil || fmt.Sprint(list.Data["keys"]) != "[readonly/]" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if err := c.Auth().Token().RevokeSelf(""); err != nil {
		t.Fatalf("revoke-self: %v", err)
	}
	_, err = c.Logical().Read("database/creds/readonly")
	wantResponseError(t, err, http.StatusForbidden, "permission denied")
	if !e.db.WasDropped(user) {
		t.Fatalf("lease of the revoked token kept its role %s", user)
	}
	_, err = root.Sys().Lookup(s.LeaseID)
	wantResponseError(t, err, http.StatusBadRequest, "invalid lease")

	_, a, _ := readCreds(t, root, "readonly")
	_, b, _ := readCreds(t, root, "short")
	if err := root.Sys().RevokePrefix("database/creds/readonly"); err != nil {
		t.Fatalf("revoke-prefix: %v", err)
	}
	if !e.db.WasDropped(a) || e.db.WasDropped(b) {
		t.Fatalf("revoke-prefix dropped %s: %v, %s: %v; want only the first", a, e.db.WasDropped(a), b, e.db.WasDropped(b))
	}
}
