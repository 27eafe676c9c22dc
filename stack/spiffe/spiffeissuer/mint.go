package spiffeissuer

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// svid is one minted X509-SVID.
type svid struct {
	id     spiffeid.ID
	cert   *x509.Certificate
	keyDER []byte // PKCS#8
}

// mint issues an X509-SVID for id, valid from now (less the cushion) for ttl,
// capped at the CA's expiry. It follows SPIRE's workload template.
func (a *authority) mint(id spiffeid.ID, dnsNames []string, now time.Time, ttl time.Duration) (*svid, error) {
	key, serial, err := newKey()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               svidSubject(dnsNames),
		URIs:                  []*url.URL{id.URL()},
		DNSNames:              dnsNames,
		NotBefore:             now.Add(-notBeforeCushion),
		NotAfter:              earliest(now.Add(ttl), a.cert.NotAfter),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	return a.sign(id, tmpl, key)
}

// sign signs tmpl for key's public half and packs the result as an svid.
func (a *authority) sign(id spiffeid.ID, tmpl *x509.Certificate, key *ecdsa.PrivateKey) (*svid, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &svid{id: id, cert: cert, keyDER: keyDER}, nil
}

// svidSubject is SPIRE's default workload subject with CN = the first DNS
// name, which is what a `-dns root` entry turns into the SQL user.
func svidSubject(dnsNames []string) pkix.Name {
	name := pkix.Name{Country: []string{"US"}, Organization: []string{"SPIRE"}}
	if len(dnsNames) > 0 {
		name.CommonName = dnsNames[0]
	}
	return name
}

// earliest returns the earlier of two times.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
