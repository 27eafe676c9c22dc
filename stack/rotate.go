package stack

import (
	"context"
	"crypto/rand"
	"fmt"
	"syscall"

	"github.com/authbench/authbench/stack/pki"
)

// ForceRotation replaces the credential of user for the given auth mode, as
// the deployment's infrastructure would: a fresh client certificate from the
// CA (cert), a new password set with ALTER ROLE and written to the user's
// password file (password), a new SVID pushed by the issuer (spiffe). Modes
// whose client renews itself (gssapi, vault) rotate in the driver instead.
// It returns what was done, for the event's detail (never a secret).
func (s *State) ForceRotation(ctx context.Context, mode, user string) (string, error) {
	switch mode {
	case "cert":
		return s.rotateCert(user)
	case "password":
		return s.rotatePassword(ctx, user)
	case "spiffe":
		if err := s.SignalBuiltin("spiffe", syscall.SIGUSR1); err != nil {
			return "", err
		}
		return "issuer asked for new SVIDs", nil
	}
	return "", fmt.Errorf("the stack cannot rotate credentials of auth mode %q", mode)
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
