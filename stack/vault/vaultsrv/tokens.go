package vaultsrv

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// token is one entry of the token store (Vault's logical.TokenEntry).
type token struct {
	id, accessor string
	displayName  string // "token" (root), "approle": the username template's DisplayName
	path         string // the path that created it
	entityID     string
	policies     []string
	meta         map[string]string
	issued       time.Time
	ttl, maxTTL  time.Duration // zero for the root token
	expire       time.Time     // zero: never expires
	renewable    bool
}

// newRootToken is `vault server -dev`'s root token: policy root, no TTL,
// display name "token" (so its dynamic users are v-token-…, as OpenBao's).
func newRootToken(id string, now time.Time) *token {
	return &token{
		id: id, accessor: newAccessor(), displayName: "token", path: "auth/token/root",
		policies: []string{"root"}, issued: now,
	}
}

func (t *token) expired(now time.Time) bool {
	return !t.expire.IsZero() && !now.Before(t.expire)
}

// remaining is the token's TTL left, in Vault's whole seconds.
func (t *token) remaining(now time.Time) int {
	if t.expire.IsZero() {
		return 0
	}
	return max(0, seconds(t.expire.Sub(now)))
}

// tokenFromRequest reads the client token the way Vault does: the
// X-Vault-Token header, else "Authorization: Bearer <token>".
func tokenFromRequest(r *http.Request) string {
	if t := r.Header.Get("X-Vault-Token"); t != "" {
		return t
	}
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(auth)
	}
	return ""
}

// authenticate returns the request's live token, or 403 permission denied
// for a missing, unknown or expired one (vault/request_handling.go
// fetchACLTokenEntryAndEntity returns logical.ErrPermissionDenied).
func (s *Server) authenticate(r *http.Request) (*token, error) {
	id := tokenFromRequest(r)
	if id == "" {
		return nil, errPermissionDenied
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[id]
	if t == nil || t.expired(s.now()) {
		return nil, errPermissionDenied
	}
	return t, nil
}

// handleAppRoleLogin is auth/approle/login. Its checks and messages follow
// builtin/credential/approle/path_login.go pathLoginUpdate: "missing
// role_id", "missing secret_id", and "invalid role or secret ID" (400) for
// a wrong role ID or secret ID alike.
func (s *Server) handleAppRoleLogin(req *request) (*response, error) {
	roleID := stringField(req.body, "role_id")
	secretID := stringField(req.body, "secret_id")
	switch {
	case roleID == "":
		return nil, badRequest("missing role_id")
	case !equalSecret(roleID, s.cfg.AppRole.RoleID):
		return nil, badRequest("invalid role or secret ID")
	case secretID == "":
		return nil, badRequest("missing secret_id")
	case !equalSecret(secretID, s.cfg.AppRole.SecretID):
		return nil, badRequest("invalid role or secret ID")
	}
	return &response{Auth: s.issueAppRoleToken()}, nil
}

// equalSecret compares in constant time.
func equalSecret(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// issueAppRoleToken stores a new service token for the AppRole, as Vault's
// approle login does: an orphan, renewable token whose display name is the
// mount ("approle") and whose metadata carries role_name. It returns the
// login's "auth" object.
func (s *Server) issueAppRoleToken() *authBlock {
	a := s.cfg.AppRole
	now := s.now()
	ttl := min(a.TokenTTL, a.TokenMaxTTL)
	t := &token{
		id: newServiceToken(), accessor: newAccessor(), displayName: "approle",
		path: "auth/approle/login", entityID: NewUUID(),
		policies: append([]string(nil), a.Policies...),
		meta:     map[string]string{"role_name": a.RoleName},
		issued:   now, ttl: ttl, maxTTL: a.TokenMaxTTL,
		expire: now.Add(ttl), renewable: true,
	}
	block := authBlockFor(t, now)
	s.mu.Lock()
	s.tokens[t.id] = t
	s.mu.Unlock()
	return block
}

// authBlockFor is a login's or renewal's "auth" object.
func authBlockFor(t *token, now time.Time) *authBlock {
	return &authBlock{
		ClientToken:   t.id,
		Accessor:      t.accessor,
		Policies:      t.policies,
		TokenPolicies: t.policies,
		Metadata:      t.meta,
		LeaseDuration: t.remaining(now),
		Renewable:     t.renewable,
		EntityID:      t.entityID,
		TokenType:     "service",
		Orphan:        true,
	}
}

// handleLookupSelf is auth/token/lookup-self, with the data fields of
// Vault's token store lookup (API docs, "Lookup a token (self)").
func (s *Server) handleLookupSelf(req *request) (*response, error) {
	now := s.now()
	s.mu.Lock()
	t := *req.token
	s.mu.Unlock()
	var expireTime any
	if !t.expire.IsZero() {
		expireTime = t.expire.Format(time.RFC3339Nano)
	}
	data := map[string]any{
		"accessor": t.accessor, "creation_time": t.issued.Unix(), "creation_ttl": seconds(t.ttl),
		"display_name": t.displayName, "entity_id": t.entityID, "expire_time": expireTime,
		"explicit_max_ttl": 0, "id": t.id, "issue_time": t.issued.Format(time.RFC3339Nano),
		"meta": t.meta, "num_uses": 0, "orphan": true, "path": t.path,
		"policies": t.policies, "renewable": t.renewable, "ttl": t.remaining(now), "type": "service",
	}
	return &response{Data: data}, nil
}

// handleRenewSelf is auth/token/renew-self: the token's TTL becomes the
// increment (or its creation TTL), capped at its max TTL from issue, as the
// expiration manager's RenewToken does with CalculateTTL. A token without a
// lease (root) answers OpenBao's 400 "lease is not renewable".
func (s *Server) handleRenewSelf(req *request) (*response, error) {
	inc, err := parseDurationSecond(req.body["increment"])
	if err != nil {
		return nil, badRequest(err.Error())
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t := req.token
	if t.expire.IsZero() || !t.renewable {
		return nil, badRequest("lease is not renewable")
	}
	ttl, warnings, err := calculateTTL(now, inc, t.ttl, t.maxTTL, t.issued)
	if err != nil {
		return nil, badRequest(err.Error())
	}
	t.expire = leaseExpiry(now, ttl, t.issued, t.maxTTL)
	return &response{Auth: authBlockFor(t, now), Warnings: warnings}, nil
}

// handleRevokeSelf is auth/token/revoke-self: the token is gone at once
// and the leases it read are revoked with it (token_store.go
// handleRevokeSelf → revokeTree, expiration.go RevokeByToken); 204.
func (s *Server) handleRevokeSelf(req *request) (*response, error) {
	id := req.token.id
	s.mu.Lock()
	delete(s.tokens, id)
	s.mu.Unlock()
	if err := s.revokeWhere(req.ctx, func(l *lease) bool { return l.tokenID == id }); err != nil {
		s.logf("revoking the leases of a revoked token: %v", err)
	}
	return nil, nil
}

// expireTokens deletes expired tokens and revokes the leases they created,
// as Vault revokes a token's leases with it (token_store.go revokeTree,
// expiration.go RevokeByToken).
func (s *Server) expireTokens(ctx context.Context) {
	now := s.now()
	s.mu.Lock()
	var leaseIDs []string
	for id, t := range s.tokens {
		if !t.expired(now) {
			continue
		}
		delete(s.tokens, id)
		for lid, l := range s.leases {
			if l.tokenID == id {
				leaseIDs = append(leaseIDs, lid)
			}
		}
	}
	s.mu.Unlock()
	for _, lid := range leaseIDs {
		if err := s.revoke(ctx, lid); err != nil {
			s.logf("revoking lease %s of an expired token: %v", lid, err)
		}
	}
}

// parseDurationSecond reads a TTL field the way Vault's TypeDurationSecond
// does: a number of seconds, a string of digits, or a Go duration ("1h").
// Absent means zero.
func parseDurationSecond(v any) (time.Duration, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		return numberSeconds(x.String())
	case string:
		if x == "" {
			return 0, nil
		}
		if d, err := numberSeconds(x); err == nil {
			return d, nil
		}
		d, err := time.ParseDuration(x)
		if err != nil {
			return 0, fmt.Errorf("error converting input %v for field %q: %v", x, "increment", err)
		}
		return d, nil
	}
	return 0, fmt.Errorf("error converting input %v for field %q", v, "increment")
}

func numberSeconds(s string) (time.Duration, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Second, nil
}
