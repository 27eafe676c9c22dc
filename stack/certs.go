package stack

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"
	"time"

	"github.com/authbench/authbench/stack/pki"
)

// certTTL is the lifetime of the certificates Up issues; rotation tests
// issue their own, shorter-lived ones.
const certTTL = 365 * 24 * time.Hour

// serverHosts are the names the server certificate is valid for.
var serverHosts = []string{LBHost, "127.0.0.1", "::1"}

// loadCA returns the stack's CA, creating it on first use; when PostgreSQL
// runs as another user, server keys are issued owned by that user.
func (s *State) loadCA(pu *pgUser) (*pki.CA, error) {
	ca, err := pki.LoadOrCreateCA(s.CertsDir, CACommonName)
	if err != nil {
		return nil, err
	}
	// PostgreSQL reads the server files here; client keys stay 0600.
	if err := os.Chmod(s.CertsDir, 0o755); err != nil {
		return nil, fmt.Errorf("make %s traversable: %w", s.CertsDir, err)
	}
	ca.ServerKeyOwner = pu.owner()
	return ca, nil
}

// setupPKI issues whatever certificate is missing: the server's, the
// admin's and every cert user's. Existing ones are kept (they may have been
// rotated on purpose).
func (s *State) setupPKI(pu *pgUser) (*pki.CA, error) {
	ca, err := s.loadCA(pu)
	if err != nil {
		return nil, err
	}
	crt, key := s.serverCertFiles()
	if !exists(crt) || !exists(key) {
		if _, _, err := ca.IssueServer(s.CertsDir, "server", serverHosts, certTTL); err != nil {
			return nil, err
		}
	} else if o := pu.owner(); o != nil {
		if err := os.Chown(key, o.UID, o.GID); err != nil {
			return nil, fmt.Errorf("give the server key to user %s: %w", pu.name, err)
		}
	}
	if err := s.ensureClientCert(ca, s.AdminUser); err != nil {
		return nil, err
	}
	return ca, nil
}

// ensureClientCert issues user's client certificate unless it exists.
func (s *State) ensureClientCert(ca *pki.CA, user string) error {
	crt, key := s.ClientCertFiles(user)
	if exists(crt) && exists(key) {
		return nil
	}
	_, _, err := ca.IssueClient(s.CertsDir, user, certTTL)
	return err
}

// clientCABundle returns the CA followed by every ExtraClientCAs file.
func (s *State) clientCABundle() ([]byte, error) {
	var buf bytes.Buffer
	for _, path := range append([]string{s.CAFile}, s.ExtraClientCAs...) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read client CA: %w", err)
		}
		if block, _ := pem.Decode(data); block == nil || block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("client CA file %s holds no PEM certificate: pass a PEM bundle", path)
		}
		buf.Write(bytes.TrimSpace(data))
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
