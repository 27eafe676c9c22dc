// Package cert is the TLS client-certificate auth mode: the SQL user is the
// certificate's Subject CN. The certificate is read from disk on every new
// connection, so a replaced file is used by new connections without a
// restart, and each replacement is reported as a rotation.
package cert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/fix"
)

func init() {
	authmodes.Register(authmodes.Meta{
		Name:        "cert",
		Description: "TLS client certificate (CN = SQL user), re-read on every new connection",
		New:         newMode,
	})
}

type mode struct {
	certsDir, certFile, keyFile string
	user                        string

	mu     sync.Mutex
	serial string // serial of the certificate last presented
	events authmodes.EventSink
}

func newMode(fs *pflag.FlagSet) authmodes.Mode {
	m := &mode{}
	fs.StringVar(&m.certsDir, "certs-dir", os.Getenv("AUTHBENCH_CERTS_DIR"), "directory with client.<user>.crt and client.<user>.key [$AUTHBENCH_CERTS_DIR]")
	fs.StringVar(&m.certFile, "cert", "", "client certificate file (default: <certs-dir>/client.<user>.crt)")
	fs.StringVar(&m.keyFile, "key", "", "client key file (default: <certs-dir>/client.<user>.key)")
	return m
}

// DefaultUser is the stack's certificate user.
func (m *mode) DefaultUser() string { return os.Getenv("AUTHBENCH_CERT_USER") }

// Settings names the certificate and key files.
func (m *mode) Settings() map[string]string {
	return map[string]string{"cert": m.certFile, "key": m.keyFile}
}

// Close has nothing to stop.
func (m *mode) Close() error { return nil }

// Configure checks the certificate once (so a bad file fails at start with
// a clear line) and installs GetClientCertificate on every TLS config.
func (m *mode) Configure(ctx context.Context, cfg *pgxpool.Config, env authmodes.Env) error {
	m.user, m.events = cfg.ConnConfig.User, env.Events
	certFile, keyFile, err := m.files(m.user)
	if err != nil {
		return err
	}
	m.certFile, m.keyFile = certFile, keyFile
	if cfg.ConnConfig.TLSConfig == nil {
		return &fix.Error{Step: "settings", What: fix.Textf("the cert auth mode needs TLS"), Fix: fix.Textf("use %v verify-full", fix.Flag("sslmode"))}
	}
	c, err := m.load()
	if err != nil {
		return err
	}
	if err := checkLeaf(c.Leaf, m.user, m.certFile); err != nil {
		return err
	}
	m.serial = c.Leaf.SerialNumber.Text(16)
	install(cfg, m.getClientCertificate)
	return nil
}

// install sets the callback on the primary TLS config and every fallback.
func install(cfg *pgxpool.Config, get func(*tls.CertificateRequestInfo) (*tls.Certificate, error)) {
	cfg.ConnConfig.TLSConfig.GetClientCertificate = get
	for _, fb := range cfg.ConnConfig.Fallbacks {
		if fb.TLSConfig != nil {
			fb.TLSConfig.GetClientCertificate = get
		}
	}
}

func (m *mode) load() (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(m.certFile, m.keyFile)
	if err != nil {
		return nil, &fix.Error{Step: "client-cert", What: fix.Textf("client certificate %s / key %s: %s", m.certFile, m.keyFile, unwrap(err)), Err: err,
			Fix: fix.Textf("check %v/%v or %v", fix.Flag("cert"), fix.Flag("key"), fix.Flag("certs-dir")), Credential: true}
	}
	return &c, nil
}

// getClientCertificate reads the files for this connection's handshake and
// reports a rotation when the serial changed since the last one.
func (m *mode) getClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c, err := m.load()
	if err != nil {
		return nil, err
	}
	serial := c.Leaf.SerialNumber.Text(16)
	m.mu.Lock()
	changed := serial != m.serial
	m.serial = serial
	m.mu.Unlock()
	if changed && m.events != nil {
		m.events.Event("rotation", "cert", fmt.Sprintf("new client certificate serial=%s expires=%s", serial, c.Leaf.NotAfter.UTC().Format(time.RFC3339)), true)
	}
	return c, nil
}

func checkLeaf(leaf *x509.Certificate, user, path string) error {
	now := time.Now()
	switch {
	case now.After(leaf.NotAfter):
		return &fix.Error{Step: "cert-expiry", What: fix.Textf("client certificate %s expired at %s", path, leaf.NotAfter.UTC().Format(time.RFC3339)),
			Fix: fix.Textf("issue a new one (`%v` renews the stack's)", fix.Command("stack up")), Credential: true}
	case now.Before(leaf.NotBefore):
		return &fix.Error{Step: "cert-expiry", What: fix.Textf("client certificate %s is not valid before %s", path, leaf.NotBefore.UTC().Format(time.RFC3339)),
			Fix: fix.Textf("check the clock"), Credential: true}
	case user != "" && leaf.Subject.CommonName != user:
		return &fix.Error{Step: "cert-user", What: fix.Textf("client certificate %s is for user %q (its CN), not %q", path, leaf.Subject.CommonName, user),
			Fix: fix.Textf("pass %v %s or the right %v", fix.Flag("user"), leaf.Subject.CommonName, fix.Flag("cert")), Credential: true}
	}
	return nil
}

// unwrap names a file error by its path and cause, without the
// operation.
func unwrap(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}
