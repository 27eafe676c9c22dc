package spiffeissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Files in Config.Dir.
const (
	caCertFile = "ca.crt"
	caKeyFile  = "ca.key"
	bundleFile = "bundle.pem"
)

// caLifetime is how long a new CA is valid. The CA never rotates while it
// lives, so the database's ssl_ca_file stays valid across restarts.
const caLifetime = 10 * 365 * 24 * time.Hour

// notBeforeCushion backdates NotBefore against clock skew, as SPIRE does.
const notBeforeCushion = 10 * time.Second

// authority is the trust domain's signing CA.
type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// loadOrCreateCA loads the CA from dir, creating it when dir has none.
func loadOrCreateCA(dir string, td spiffeid.TrustDomain) (*authority, error) {
	ca, err := loadCA(dir, td)
	if errors.Is(err, fs.ErrNotExist) {
		return createCA(dir, td)
	}
	return ca, err
}

// loadCA reads and checks the CA in dir; fs.ErrNotExist means there is none.
func loadCA(dir string, td spiffeid.TrustDomain) (*authority, error) {
	certPEM, certErr := os.ReadFile(filepath.Join(dir, caCertFile))
	keyPEM, keyErr := os.ReadFile(filepath.Join(dir, caKeyFile))
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return nil, fs.ErrNotExist
	case errors.Is(certErr, fs.ErrNotExist) || errors.Is(keyErr, fs.ErrNotExist):
		return nil, fmt.Errorf("incomplete CA in %s: remove %s and %s to start over", dir, caCertFile, caKeyFile)
	case certErr != nil:
		return nil, certErr
	case keyErr != nil:
		return nil, keyErr
	}
	ca, err := parseCA(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("CA in %s: %w", dir, err)
	}
	if err := ca.check(td, time.Now()); err != nil {
		return nil, fmt.Errorf("CA in %s: %w", dir, err)
	}
	return ca, nil
}

// parseCA parses a PEM certificate and a PEM PKCS#8 key that must match.
func parseCA(certPEM, keyPEM []byte) (*authority, error) {
	certDER, err := pemBlock(certPEM, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, err
	}
	keyDER, err := pemBlock(keyPEM, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key type %T cannot sign", key)
	}
	if !publicKeysEqual(cert.PublicKey, signer.Public()) {
		return nil, errors.New("key does not match certificate")
	}
	return &authority{cert: cert, key: signer}, nil
}

// check verifies the CA belongs to td, is a CA and is valid at now.
func (a *authority) check(td spiffeid.TrustDomain, now time.Time) error {
	switch {
	case !a.cert.IsCA:
		return errors.New("certificate is not a CA")
	case len(a.cert.URIs) != 1 || a.cert.URIs[0].String() != td.IDString():
		return fmt.Errorf("CA is not for trust domain %s (URI SANs %v)", td, a.cert.URIs)
	case now.After(a.cert.NotAfter):
		return fmt.Errorf("CA expired at %s", a.cert.NotAfter.Format(time.RFC3339))
	}
	return nil
}

// createCA makes a new self-signed CA for td and saves it in dir.
func createCA(dir string, td spiffeid.TrustDomain) (*authority, error) {
	key, serial, err := newKey()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Country: []string{"US"}, Organization: []string{"SPIFFE"}},
		URIs:                  []*url.URL{td.ID().URL()},
		NotBefore:             now.Add(-notBeforeCushion),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if err := saveCA(dir, cert, key); err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key}, nil
}

// saveCA writes the key (0600, never overwriting) and then the certificate.
func saveCA(dir string, cert *x509.Certificate, key crypto.Signer) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeNewFile(filepath.Join(dir, caKeyFile), pemEncode("PRIVATE KEY", keyDER), 0o600); err != nil {
		return err
	}
	return writeNewFile(filepath.Join(dir, caCertFile), pemEncode("CERTIFICATE", cert.Raw), 0o644)
}

// writeBundle replaces dir/bundle.pem with the CA certificate.
func writeBundle(dir string, cert *x509.Certificate) error {
	path := filepath.Join(dir, bundleFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pemEncode("CERTIFICATE", cert.Raw), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeNewFile creates path with perm and data; it fails if path exists.
func writeNewFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pemEncode returns one PEM block.
func pemEncode(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// pemBlock returns the DER of the first PEM block, which must be of type typ.
func pemBlock(data []byte, typ string) ([]byte, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != typ {
		return nil, fmt.Errorf("no %s PEM block", typ)
	}
	return block.Bytes, nil
}

// publicKeysEqual reports whether two public keys are the same key.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}

// serialLimit bounds serial numbers to 127 bits, so they stay positive.
var serialLimit = new(big.Int).Lsh(big.NewInt(1), 127)

// newKey returns a fresh P-256 key and a random serial for the
// certificate that will carry it.
func newKey() (*ecdsa.PrivateKey, *big.Int, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	return key, serial, nil
}

// randomSerial returns a random positive certificate serial number.
func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, serialLimit)
	if err != nil {
		return nil, err
	}
	return n.Add(n, big.NewInt(1)), nil
}
