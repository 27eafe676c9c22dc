package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/authbench/authbench/fix"
	"github.com/authbench/authbench/internal/pgwire"
)

// tlsVerify is how the server certificate is to be verified.
type tlsVerify struct {
	host      string
	roots     *x509.CertPool // nil: the chain is not verified (sslmode require)
	checkName bool           // verify-full: the certificate must name host
	caName    fix.Text       // where the CA came from, for messages
}

// checkTLS asks the server for TLS on conn, does the handshake without a
// client certificate and judges the server's certificate. It also returns
// the CAs the server accepts client certificates from, as it listed them.
func (d *Doctor) checkTLS(ctx context.Context, conn net.Conn, v tlsVerify) (Check, [][]byte) {
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	chain, cas, err := startTLS(ctx, conn, v.host)
	if err != nil {
		return tlsError(conn.RemoteAddr().String(), err), nil
	}
	return judgeServerCert(chain, v, time.Now()), cas
}

// startTLS sends the SSLRequest, expects 'S' and does the TLS handshake;
// it verifies nothing, so that the certificate can be described even when
// it is wrong.
func startTLS(ctx context.Context, conn net.Conn, host string) ([]*x509.Certificate, [][]byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
		defer conn.SetDeadline(time.Time{})
	}
	if err := pgwire.RequestTLS(conn); err != nil {
		return nil, nil, err
	}
	var cas [][]byte
	tc := tls.Client(conn, &tls.Config{
		ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cas = cri.AcceptableCAs
			return &tls.Certificate{}, nil // none: only the server is checked here
		},
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc.ConnectionState().PeerCertificates, cas, nil
}

// tlsError explains a failed SSLRequest or handshake.
func tlsError(addr string, err error) Check {
	switch {
	case errors.Is(err, pgwire.ErrNoTLS):
		return Fail("tls", fix.Textf("%s: %v", addr, err), fix.Textf("turn on ssl in the database server (ssl = on), or check %v", fix.Flag("port")))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Fail("tls", fix.Textf("%s closed the connection during the TLS start (%s)", addr, RootCause(err)),
			fix.Textf("the load balancer has no healthy database behind it, or does not pass TLS through (mode tcp): check its backends (`%v`)", fix.Command("stack status")))
	}
	return Fail("tls", fix.Textf("%s: %s", addr, oneLine(err.Error())),
		fix.Textf("check that %v is the load balancer's SQL port and that it passes TLS through to the database", fix.Flag("port")))
}

// judgeServerCert checks the server's certificate: validity period, chain
// against the CA, and the names against the host.
func judgeServerCert(chain []*x509.Certificate, v tlsVerify, now time.Time) Check {
	if len(chain) == 0 {
		return Fail("tls", fix.Textf("the server sent no certificate"), fix.Textf("configure a server certificate (ssl_cert_file)"))
	}
	leaf := chain[0]
	desc := describeCert(leaf, now)
	switch {
	case now.After(leaf.NotAfter):
		return Fail("tls", fix.Textf("server certificate %s has expired", desc),
			fix.Textf("renew the server certificate (`%v` renews the stack's)", fix.Command("stack up")))
	case now.Before(leaf.NotBefore):
		return Fail("tls", fix.Textf("server certificate %s is not valid before %s", desc, stamp(leaf.NotBefore)),
			fix.Textf("check the clocks of this machine and the server"))
	}
	chainNote, err := verifyChain(chain, v)
	if err != nil {
		return Fail("tls", fix.Textf("server certificate %s does not verify against %v: %s", desc, v.caName, oneLine(err.Error())),
			fix.Textf("pass the CA that signed the server's certificate as %v", fix.Flag("ca")))
	}
	nameNote := fix.Textf("host name not checked (sslmode is not verify-full)")
	if v.checkName {
		if err := leaf.VerifyHostname(v.host); err != nil {
			return Fail("tls", fix.Textf("server certificate %s does not name %v %s", desc, fix.Flag("host"), v.host),
				fix.Textf("connect with one of its names as %v, or reissue the server certificate with %s in its SANs", fix.Flag("host"), v.host))
		}
		nameNote = fix.Textf("names %v %s", fix.Flag("host"), v.host)
	}
	return Pass("tls", "server certificate %s; %v; %v", desc, chainNote, nameNote)
}

// verifyChain verifies the chain against the roots, when there are any.
func verifyChain(chain []*x509.Certificate, v tlsVerify) (fix.Text, error) {
	if v.roots == nil {
		return fix.Textf("chain not verified (no CA: sslmode require)"), nil
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inter})
	return fix.Textf("chain verifies against %v", v.caName), err
}

// describeCert says who a certificate is for, who issued it and until when.
func describeCert(c *x509.Certificate, now time.Time) string {
	sans := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		sans = append(sans, ip.String())
	}
	for _, u := range c.URIs {
		sans = append(sans, u.String())
	}
	names := "no SANs"
	if len(sans) > 0 {
		names = "SANs " + strings.Join(sans, ", ")
	}
	return fmt.Sprintf("CN=%s (%s; issuer CN=%s; expires %s)", c.Subject.CommonName, names, c.Issuer.CommonName, When(c.NotAfter, now))
}
