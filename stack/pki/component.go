package pki

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/stack"
)

// The stack component "pki": the stack's CA in CertsDir, PostgreSQL's
// server certificate, the admin's and every cert user's client
// certificate, and their rotation. Its files are named by the core's State
// (CAFile, CertsDir, ClientCertFiles): every client and the core's admin
// connection read them, so the PKI has no section of state.json.

// Name is the component's name.
const Name = "pki"

// The PKI issues before anything starts and has no process to stop.
func init() {
	stack.RegisterOrdered(stack.Order{Start: -100, Stop: 100, Status: -100}, component{})
}

// certTTL is the lifetime of the certificates Up issues; rotation tests
// issue their own, shorter-lived ones.
const certTTL = 365 * 24 * time.Hour

type component struct{}

func (component) Name() string { return Name }

// Merge does nothing: the CA's paths are the core's.
func (component) Merge(stack.Config, *stack.State) {}

// Enabled: every stack has its PKI.
func (component) Enabled(*stack.State) bool { return true }

// Prepare issues whatever certificate is missing: the server's and the
// admin's. Existing ones are kept (they may have been rotated on purpose).
func (component) Prepare(ctx context.Context, s *stack.State, log io.Writer) error {
	ca, err := loadStackCA(s)
	if err != nil {
		return err
	}
	crt, key := s.ServerCertFiles()
	if !exists(crt) || !exists(key) {
		if _, _, err := ca.IssueServer(s.CertsDir, "server", serverHosts(), certTTL); err != nil {
			return err
		}
	} else if o := ca.ServerKeyOwner; o != nil {
		if err := os.Chown(key, o.UID, o.GID); err != nil {
			return fmt.Errorf("give the server key to uid %d: %w", o.UID, err)
		}
	}
	return ensureClientCert(s, ca, s.AdminUser)
}

// serverHosts are the names the server certificate is valid for.
func serverHosts() []string { return []string{stack.LBHost, "127.0.0.1", "::1"} }

func (component) Finish(context.Context, *stack.State, io.Writer) error { return nil }

func (component) Stop(*stack.State, io.Writer) error { return nil }

// Status: the PKI runs no process.
func (component) Status(*stack.State) []stack.ComponentStatus { return nil }

// Env: where the client certificates are and the first cert user (the CA,
// which every client verifies the server with, is the core's AUTHBENCH_CA).
func (component) Env(s *stack.State) []stack.EnvVar {
	u, _ := s.FirstUser(stack.MethodCert)
	return []stack.EnvVar{{Name: "AUTHBENCH_CERTS_DIR", Value: s.CertsDir}, {Name: "AUTHBENCH_CERT_USER", Value: u.Name}}
}

// SetUpUser issues a cert user's client certificate unless it exists.
func (component) SetUpUser(_ context.Context, s *stack.State, _ *pgx.Conn, u stack.User) error {
	if u.Method != stack.MethodCert {
		return nil
	}
	ca, err := loadStackCA(s)
	if err != nil {
		return err
	}
	return ensureClientCert(s, ca, u.Name)
}

// RotatesMode: the PKI rotates client certificates.
func (component) RotatesMode(mode string) bool { return mode == stack.MethodCert }

// Rotate issues user a fresh client certificate.
func (component) Rotate(_ context.Context, s *stack.State, user string) (string, error) {
	ca, err := LoadOrCreateCA(s.CertsDir, stack.CACommonName)
	if err != nil {
		return "", err
	}
	crt, _, err := ca.IssueClient(s.CertsDir, user, certTTL)
	if err != nil {
		return "", err
	}
	c, err := ReadCert(crt)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("new client certificate for %s serial=%s", user, c.SerialNumber.Text(16)), nil
}

// loadStackCA returns the stack's CA, creating it on first use; when
// PostgreSQL runs as another user, server keys are issued owned by that
// user.
func loadStackCA(s *stack.State) (*CA, error) {
	owner, err := s.PostgresOwner()
	if err != nil {
		return nil, err
	}
	ca, err := LoadOrCreateCA(s.CertsDir, stack.CACommonName)
	if err != nil {
		return nil, err
	}
	// PostgreSQL reads the server files here; client keys stay 0600.
	if err := os.Chmod(s.CertsDir, 0o755); err != nil {
		return nil, fmt.Errorf("make %s traversable: %w", s.CertsDir, err)
	}
	ca.ServerKeyOwner = owner
	return ca, nil
}

// ensureClientCert issues user's client certificate unless it exists.
func ensureClientCert(s *stack.State, ca *CA, user string) error {
	crt, key := s.ClientCertFiles(user)
	if exists(crt) && exists(key) {
		return nil
	}
	_, _, err := ca.IssueClient(s.CertsDir, user, certTTL)
	return err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
