package vaultsrv

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// staticState is a static role's current password (Vault's staticAccount).
type staticState struct {
	password     string
	lastRotation time.Time
}

// handleStaticCreds is <mount>/static-creds/<role>, following
// path_creds_create.go pathStaticCredsRead: 400 "unknown role: <name>" for
// an unknown role, else data {username, password, last_vault_rotation,
// rotation_period, ttl} and no lease. ttl is the seconds until the next
// rotation, rounded (staticAccount.PasswordTTL).
func (s *Server) handleStaticCreds(req *request) (*response, error) {
	role, ok := s.cfg.StaticRoles[req.param]
	if !ok {
		return nil, badRequest("unknown role: " + req.param)
	}
	s.mu.Lock()
	st, ok := s.statics[req.param]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("vaultsrv: static role has not been rotated yet")
	}
	next := st.lastRotation.Add(role.RotationPeriod)
	ttl := max(0, next.Sub(s.now()).Round(time.Second))
	return &response{Data: map[string]any{
		"username":            role.Username,
		"password":            st.password,
		"last_vault_rotation": st.lastRotation.Format(time.RFC3339Nano),
		"rotation_period":     seconds(role.RotationPeriod),
		"ttl":                 seconds(ttl),
	}}, nil
}

// rotateAllStatic gives every static role its first password.
func (s *Server) rotateAllStatic(ctx context.Context) error {
	for _, name := range sortedStaticNames(s.cfg.StaticRoles) {
		if err := s.rotate(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// rotateDueStatic rotates every static role whose period has passed.
func (s *Server) rotateDueStatic(ctx context.Context) {
	now := s.now()
	for _, name := range sortedStaticNames(s.cfg.StaticRoles) {
		s.mu.Lock()
		st, ok := s.statics[name]
		s.mu.Unlock()
		if ok && now.Before(st.lastRotation.Add(s.cfg.StaticRoles[name].RotationPeriod)) {
			continue
		}
		if err := s.rotate(ctx, name); err != nil {
			s.logf("rotating static role %s: %v", name, err)
		}
	}
}

// rotate sets a new password on the static role's database login (ALTER
// ROLE … PASSWORD) and, once that succeeded, serves it.
func (s *Server) rotate(ctx context.Context, name string) error {
	role := s.cfg.StaticRoles[name]
	password := newPassword()
	if err := s.cfg.DB.SetPassword(ctx, role.Username, password); err != nil {
		return fmt.Errorf("vaultsrv: rotating static role %s (user %s): %w", name, role.Username, err)
	}
	s.mu.Lock()
	s.statics[name] = &staticState{password: password, lastRotation: s.now()}
	s.mu.Unlock()
	return nil
}

func sortedStaticNames(roles map[string]StaticRole) []string {
	names := make([]string, 0, len(roles))
	for n := range roles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
