package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/authbench/authbench/stack"
)

// CA file names inside the CA directory.
const (
	caCertFile = "ca.crt"
	caKeyFile  = "ca.key"
)

// caValidity is how long a new CA certificate is valid.
const caValidity = 10 * 365 * 24 * time.Hour

// CA is a certificate authority whose cert and key live in a directory.
type CA struct {
	// Cert is the CA certificate.
	Cert *x509.Certificate
	// Key is the CA private key.
	Key crypto.Signer
	// CertPath is the PEM file holding Cert (dir/ca.crt).
	CertPath string
	// ServerKeyOwner is who IssueServer makes the owner of the server key
	// before moving it into place; nil keeps the current user. PostgreSQL
	// refuses a key owned by anyone but the user it runs as or root.
	ServerKeyOwner *Owner
}

// Owner is a numeric file owner (stack.Owner).
type Owner = stack.Owner

// LoadOrCreateCA returns the CA stored in dir (dir/ca.crt, dir/ca.key) or,
// when neither file exists, creates a new one named commonName.
func LoadOrCreateCA(dir, commonName string) (*CA, error) {
	certPath := filepath.Join(dir, caCertFile)
	keyPath := filepath.Join(dir, caKeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case certErr == nil && keyErr == nil:
		return loadCA(certPath, keyPath)
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return createCA(dir, commonName)
	default:
		return nil, fmt.Errorf("CA in %s is incomplete (need both %s and %s): remove the directory to create a new CA", dir, caCertFile, caKeyFile)
	}
}

func loadCA(certPath, keyPath string) (*CA, error) {
	cert, err := ReadCert(certPath)
	if err != nil {
		return nil, err
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate: remove it to create a new CA", certPath)
	}
	return &CA{Cert: cert, Key: key, CertPath: certPath}, nil
}

func createCA(dir, commonName string) (*CA, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create CA directory: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl, err := template(commonName, caValidity)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new CA certificate: %w", err)
	}
	ca := &CA{Cert: cert, Key: key, CertPath: filepath.Join(dir, caCertFile)}
	if err := writePair(dir, caCertFile, caKeyFile, der, key, nil); err != nil {
		return nil, err
	}
	return ca, nil
}

// template returns a certificate template with a random 128-bit serial,
// valid from a minute ago for ttl.
func template(commonName string, ttl time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(ttl),
	}, nil
}
