package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// IssueServer issues a TLS server certificate for hosts (DNS names and IP
// addresses become the matching SANs; the first host is the Subject CN) and
// writes it to dir/<name>.crt and dir/<name>.key.
func (ca *CA) IssueServer(dir, name string, hosts []string, ttl time.Duration) (certPath, keyPath string, err error) {
	if len(hosts) == 0 {
		return "", "", fmt.Errorf("server certificate %q needs at least one host name or IP", name)
	}
	tmpl, err := template(hosts[0], ttl)
	if err != nil {
		return "", "", err
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	return ca.issue(dir, name, tmpl, ca.ServerKeyOwner)
}

// IssueClient issues a TLS client certificate whose Subject CN is the SQL
// user and writes it to dir/client.<user>.crt and dir/client.<user>.key,
// replacing any previous pair atomically (cert rotation).
func (ca *CA) IssueClient(dir, user string, ttl time.Duration) (certPath, keyPath string, err error) {
	if user == "" {
		return "", "", fmt.Errorf("client certificate needs a user name")
	}
	tmpl, err := template(user, ttl)
	if err != nil {
		return "", "", err
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return ca.issue(dir, "client."+user, tmpl, nil)
}

// issue signs tmpl with a fresh key and writes dir/<base>.crt and .key.
func (ca *CA) issue(dir, base string, tmpl *x509.Certificate, owner *Owner) (string, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("create certificate directory: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate key for %s: %w", base, err)
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return "", "", fmt.Errorf("sign certificate %s: %w", base, err)
	}
	certName, keyName := base+".crt", base+".key"
	if err := writePair(dir, certName, keyName, der, key, owner); err != nil {
		return "", "", err
	}
	return filepath.Join(dir, certName), filepath.Join(dir, keyName), nil
}
