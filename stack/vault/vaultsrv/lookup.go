package vaultsrv

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// handleLeaseLookup is sys/leases/lookup (vault/logical_system.go
// handleLeaseLookup): lease_id from the body, 400 "lease_id must be
// specified" without one and 400 "invalid lease" for one the expiration
// manager does not have; else data {id, path, issue_time, expire_time,
// last_renewal, renewable, ttl}.
func (s *Server) handleLeaseLookup(req *request) (*response, error) {
	id := leaseIDFrom(req)
	if id == "" {
		return nil, badRequest("lease_id must be specified")
	}
	now := s.now()
	s.mu.Lock()
	l := s.leases[id]
	var info map[string]any
	if l != nil && !l.revoking {
		info = l.lookupData(now)
	}
	s.mu.Unlock()
	if info == nil {
		return nil, badRequest("invalid lease")
	}
	return &response{Data: info}, nil
}

// lookupData is a lease's sys/leases/lookup data; s.mu is held.
func (l *lease) lookupData(now time.Time) map[string]any {
	var last any
	if !l.lastRenewal.IsZero() {
		last = l.lastRenewal.Format(time.RFC3339Nano)
	}
	return map[string]any{
		"id": l.id, "path": l.id[:strings.LastIndexByte(l.id, '/')],
		"issue_time": l.issued.Format(time.RFC3339Nano), "expire_time": l.expire.Format(time.RFC3339Nano),
		"last_renewal": last, "renewable": true, "ttl": max(0, seconds(l.expire.Sub(now))),
	}
}

// handleLeaseList is LIST sys/leases/lookup/<prefix>/ (handleLeaseLookupList):
// the lease ids under the prefix, one level at a time, as a directory
// listing ("bench/" for a role, the random part for a lease); nothing found
// is 404 with an empty error list, as every empty LIST in Vault.
func (s *Server) handleLeaseList(req *request) (*response, error) {
	prefix := strings.TrimSuffix(req.param, "/") + "/"
	s.mu.Lock()
	seen := map[string]bool{}
	for id, l := range s.leases {
		rest, ok := strings.CutPrefix(id, prefix)
		if !ok || l.revoking {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i+1]
		}
		seen[rest] = true
	}
	s.mu.Unlock()
	if len(seen) == 0 {
		return nil, errNotFound
	}
	keys := make([]any, 0, len(seen))
	for _, k := range slices.Sorted(mapKeys(seen)) {
		keys = append(keys, k)
	}
	return &response{Data: map[string]any{"keys": keys}}, nil
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// handleRevokePrefix is sys/leases/revoke-prefix/<prefix>
// (handleRevokePrefix): every lease whose id starts with the prefix is
// revoked; 204. The stand-in revokes before it answers, where OpenBao
// answers first and revokes in the background.
func (s *Server) handleRevokePrefix(req *request) (*response, error) {
	if err := s.revokeWhere(req.ctx, func(l *lease) bool { return strings.HasPrefix(l.id, req.param) }); err != nil {
		return nil, badRequest("failed to revoke prefix: " + err.Error())
	}
	return nil, nil
}

// revokeWhere revokes every lease match selects, trying them all.
func (s *Server) revokeWhere(ctx context.Context, match func(*lease) bool) error {
	s.mu.Lock()
	var ids []string
	for id, l := range s.leases {
		if match(l) {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, id := range ids {
		if err := s.revoke(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
