package vaultsrv

import (
	"context"
	"fmt"
	"time"
)

// lease is a lease on dynamic credentials (Vault's expiration manager
// leaseEntry plus the database backend's internal data).
type lease struct {
	id, role, username string
	tokenID            string // the token that read the creds
	issued, expire     time.Time
	lastRenewal        time.Time // zero until renewed
	defaultTTL, maxTTL time.Duration
	revoking           bool // a DropRole is under way
}

func (l *lease) info() LeaseInfo {
	return LeaseInfo{LeaseID: l.id, Role: l.role, Username: l.username, IssueTime: l.issued, ExpireTime: l.expire}
}

// handleCreds is <mount>/creds/<role>, following
// builtin/logical/database/path_creds_create.go pathCredsCreateRead: an
// unknown role is 400 "unknown role: <name>"; the TTL is the role's default
// capped at its max; the login's VALID UNTIL is the lease expiry plus 5s;
// the answer is a renewable lease with data {username, password}.
func (s *Server) handleCreds(req *request) (*response, error) {
	role, ok := s.cfg.DynamicRoles[req.param]
	if !ok {
		return nil, badRequest("unknown role: " + req.param)
	}
	now := s.now()
	ttl, _, err := calculateTTL(now, 0, role.DefaultTTL, role.MaxTTL, time.Time{})
	if err != nil {
		return nil, err
	}
	l := &lease{
		id: newLeaseID(req.path), role: req.param, tokenID: req.token.id,
		username: newUsername(req.token.displayName, req.param, now),
		issued:   now, expire: leaseExpiry(now, ttl, now, role.MaxTTL),
		defaultTTL: role.DefaultTTL, maxTTL: role.MaxTTL,
	}
	password := newPassword()
	if err := s.cfg.DB.CreateRole(req.ctx, l.username, password, l.expire.Add(validUntilBuffer), role.GrantRoles); err != nil {
		return nil, fmt.Errorf("vaultsrv: creating database role for %s: %w", req.param, err)
	}
	s.mu.Lock()
	s.leases[l.id] = l
	s.mu.Unlock()
	return &response{
		LeaseID: l.id, Renewable: true, LeaseDuration: seconds(ttl),
		Data: map[string]any{"username": l.username, "password": password},
	}, nil
}

// handleRenew is sys/leases/renew (vault/logical_system.go handleRenew):
// lease_id from the body or the URL, else 400 "lease_id must be specified";
// increment in seconds or as a duration string.
func (s *Server) handleRenew(req *request) (*response, error) {
	id := leaseIDFrom(req)
	if id == "" {
		return nil, badRequest("lease_id must be specified")
	}
	inc, err := parseDurationSecond(req.body["increment"])
	if err != nil {
		return nil, badRequest(err.Error())
	}
	return s.renew(req.ctx, id, inc)
}

func leaseIDFrom(req *request) string {
	if id := stringField(req.body, "lease_id"); id != "" {
		return id
	}
	return req.param
}

// renew follows vault/expiration.go Renew. An unknown (or already revoked)
// lease is 400 "lease not found" and an expired one 400 "lease expired"
// (leaseEntry.renewable). The new TTL is CalculateTTL(increment, default
// TTL, max TTL, issue time): Vault grants at most what is left of max_ttl
// and warns when it caps. Like secret_creds.go, the database login's VALID
// UNTIL moves to the new expiry plus 5s before the lease is updated.
func (s *Server) renew(ctx context.Context, id string, inc time.Duration) (*response, error) {
	now := s.now()
	s.mu.Lock()
	l := s.leases[id]
	if l == nil || l.revoking {
		s.mu.Unlock()
		return nil, badRequest("lease not found")
	}
	if !now.Before(l.expire) {
		s.mu.Unlock()
		return nil, badRequest("lease expired")
	}
	ttl, warnings, err := calculateTTL(now, inc, l.defaultTTL, l.maxTTL, l.issued)
	username, expire := l.username, leaseExpiry(now, ttl, l.issued, l.maxTTL)
	s.mu.Unlock()
	if err != nil {
		return nil, badRequest(err.Error())
	}
	if err := s.cfg.DB.SetValidUntil(ctx, username, expire.Add(validUntilBuffer)); err != nil {
		return nil, fmt.Errorf("vaultsrv: renewing database role %s: %w", username, err)
	}
	if !s.setExpire(id, expire) {
		return nil, badRequest("lease not found")
	}
	return &response{LeaseID: id, Renewable: true, LeaseDuration: seconds(ttl), Warnings: warnings}, nil
}

// setExpire moves a lease's expiry; false if it was revoked meanwhile.
func (s *Server) setExpire(id string, expire time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.leases[id]
	if l == nil || l.revoking {
		return false
	}
	l.expire, l.lastRenewal = expire, s.now()
	return true
}

// handleRevoke is sys/leases/revoke (vault/logical_system.go handleRevoke,
// sync by default): 204 on success, including for a lease that does not
// exist (the expiration manager's revokeCommon has nothing to revoke).
func (s *Server) handleRevoke(req *request) (*response, error) {
	id := leaseIDFrom(req)
	if id == "" {
		return nil, badRequest("lease_id must be specified")
	}
	if err := s.revoke(req.ctx, id); err != nil {
		return nil, badRequest(fmt.Sprintf("failed to revoke entry: %v", err))
	}
	return nil, nil
}

// revoke drops the lease's database role and forgets the lease. A lease
// that is unknown or already being revoked is not an error. On failure the
// lease stays, so the reaper tries again.
func (s *Server) revoke(ctx context.Context, id string) error {
	s.mu.Lock()
	l := s.leases[id]
	if l == nil || l.revoking {
		s.mu.Unlock()
		return nil
	}
	l.revoking = true
	username := l.username
	s.mu.Unlock()

	err := s.cfg.DB.DropRole(ctx, username)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		l.revoking = false
		return fmt.Errorf("vaultsrv: dropping database role %s: %w", username, err)
	}
	delete(s.leases, id)
	return nil
}

// revokeExpired revokes every lease past its expiry, as the expiration
// manager's timers do.
func (s *Server) revokeExpired(ctx context.Context) {
	now := s.now()
	s.mu.Lock()
	var due []string
	for id, l := range s.leases {
		if !l.revoking && !now.Before(l.expire) {
			due = append(due, id)
		}
	}
	s.mu.Unlock()
	for _, id := range due {
		if err := s.revoke(ctx, id); err != nil {
			s.logf("revoking expired lease %s: %v", id, err)
		}
	}
}
