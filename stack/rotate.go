package stack

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/authbench/authbench/stack/pki"
)

// ForceRotation replaces the credential of user for the given auth mode, as
// the deployment's infrastructure would: a fresh client certificate from the
// CA (cert), a new password set with ALTER ROLE and written to the user's
// password file (password), or what a component's Rotator does (spiffe:
// the issuer pushes new SVIDs). Modes whose client renews itself (gssapi,
// vault) rotate in the driver instead. It returns what was done, for the
// event's detail (never a secret).
func (s *State) ForceRotation(ctx context.Context, mode, user string) (string, error) {
	rotators := []Rotator{certRotator{}, passwordRotator{}}
	for _, c := range Components() {
		if r, ok := c.(Rotator); ok {
			rotators = append(rotators, r)
		}
	}
	for _, r := range rotators {
		if r.RotatesMode(mode) {
			return r.Rotate(ctx, s, user)
		}
	}
	return "", fmt.Errorf("the stack cannot rotate credentials of auth mode %q", mode)
}

// certRotator issues a fresh client certificate (the PKI's part).
type certRotator struct{}

func (certRotator) RotatesMode(mode string) bool { return mode == MethodCert }

func (certRotator) Rotate(_ context.Context, s *State, user string) (string, error) {
	return s.rotateCert(user)
}

// passwordRotator sets a new password (PostgreSQL's part).
type passwordRotator struct{}

func (passwordRotator) RotatesMode(mode string) bool { return mode == MethodPassword }

func (passwordRotator) Rotate(ctx context.Context, s *State, user string) (string, error) {
	return s.rotatePassword(ctx, user)
}

func (s *State) rotateCert(user string) (string, error) {
	ca, err := pki.LoadOrCreateCA(s.CertsDir, CACommonName)
	if err != nil {
		return "", err
	}
	crt, _, err := ca.IssueClient(s.CertsDir, user, certTTL)
	if err != nil {
		return "", err
	}
	c, err := pki.ReadCert(crt)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("new client certificate for %s serial=%s", user, c.SerialNumber.Text(16)), nil
}

// rotatePassword sets a new random password, then writes it to the file the
// password mode reads; a connection made in between fails once and is
// retried by the driver.
func (s *State) rotatePassword(ctx context.Context, user string) (string, error) {
	conn, err := s.connectAdmin(ctx, s.Database)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	password := rand.Text()
	if err := setPassword(ctx, conn, user, password); err != nil {
		return "", err
	}
	if err := pki.WriteFileAtomic(s.UserPasswordFile(user), []byte(password), 0o600, nil); err != nil {
		return "", err
	}
	return "new password for " + user, nil
}
