package main

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

	"github.com/authbench/authbench/authmodes"
)

// sslRequest is PostgreSQL's SSLRequest message (length 8, code 80877103);
// CockroachDB answers it too.
var sslRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

// tlsVerify is how the server certificate is to be verified.
type tlsVerify struct {
	host      string
	roots     *x509.CertPool // nil: the chain is not verified (sslmode require)
	checkName bool           // verify-full: the certificate must name host
	caName    string         // "--ca /path/ca.crt", for messages
}

// checkTLS asks the server for TLS on conn, does the handshake without a
// client certificate and judges the server's certificate. It also returns
// the CAs the server accepts client certificates from, as it listed them.
func (d *doctor) checkTLS(ctx context.Context, conn net.Conn, v tlsVerify) (authmodes.Check, [][]byte) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	chain, cas, err := startTLS(ctx, conn, v.host)
	if err != nil {
		return tlsError(conn.RemoteAddr().String(), err), nil
	}
	return judgeServerCert(chain, v, time.Now()), cas
}

// errNoTLS is the server's "N" to the SSLRequest.
var errNoTLS = errors.New("the server refused TLS (it answered N to the SSLRequest)")

// startTLS sends the SSLRequest, expects 'S' and does the TLS handshake;
// it verifies nothing, so that the certificate can be described even when
// it is wrong.
func startTLS(ctx context.Context, conn net.Conn, host string) ([]*x509.Certificate, [][]byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
		defer conn.SetDeadline(time.Time{})
	}
	if _, err := conn.Write(sslRequest); err != nil {
		return nil, nil, err
	}
	var answer [1]byte
	if _, err := io.ReadFull(conn, answer[:]); err != nil {
		return nil, nil, fmt.Errorf("no answer to the SSLRequest: %w", err)
	}
	switch answer[0] {
	case 'S':
	case 'N':
		return nil, nil, errNoTLS
	default:
		return nil, nil, fmt.Errorf("the server answered %q to the SSLRequest, which is not PostgreSQL's protocol", answer[0])
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
func tlsError(addr string, err error) authmodes.Check {
	switch {
	case errors.Is(err, errNoTLS):
		return authmodes.Fail("tls", fmt.Sprintf("%s: %v", addr, err), "turn on ssl in the database server (ssl = on), or check --port")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return authmodes.Fail("tls", fmt.Sprintf("%s closed the connection during the TLS start (%s)", addr, rootCause(err)),
			"the load balancer has no healthy database behind it, or does not pass TLS through (mode tcp): check its backends (`authbench stack status`)")
	}
	return authmodes.Fail("tls", fmt.Sprintf("%s: %s", addr, oneLine(err.Error())),
		"check that --port is the load balancer's SQL port and that it passes TLS through to the database")
}

// judgeServerCert checks the server's certificate: validity period, chain
// against the CA, and the names against --host.
func judgeServerCert(chain []*x509.Certificate, v tlsVerify, now time.Time) authmodes.Check {
	if len(chain) == 0 {
		return authmodes.Fail("tls", "the server sent no certificate", "configure a server certificate (ssl_cert_file)")
	}
	leaf := chain[0]
	desc := describeCert(leaf, now)
	switch {
	case now.After(leaf.NotAfter):
		return authmodes.Fail("tls", "server certificate "+desc+" has expired",
			"renew the server certificate (`authbench stack up` renews the stack's)")
	case now.Before(leaf.NotBefore):
		return authmodes.Fail("tls", fmt.Sprintf("server certificate %s is not valid before %s", desc, stamp(leaf.NotBefore)),
			"check the clocks of this machine and the server")
	}
	chainNote, err := verifyChain(chain, v)
	if err != nil {
		return authmodes.Fail("tls", fmt.Sprintf("server certificate %s does not verify against %s: %s", desc, v.caName, oneLine(err.Error())),
			"pass the CA that signed the server's certificate as --ca")
	}
	nameNote := "host name not checked (sslmode is not verify-full)"
	if v.checkName {
		if err := leaf.VerifyHostname(v.host); err != nil {
			return authmodes.Fail("tls", fmt.Sprintf("server certificate %s does not name --host %s", desc, v.host),
				fmt.Sprintf("connect with one of its names as --host, or reissue the server certificate with %s in its SANs", v.host))
		}
		nameNote = "names --host " + v.host
	}
	return authmodes.Pass("tls", fmt.Sprintf("server certificate %s; %s; %s", desc, chainNote, nameNote))
}

// verifyChain verifies the chain against the roots, when there are any.
func verifyChain(chain []*x509.Certificate, v tlsVerify) (string, error) {
	if v.roots == nil {
		return "chain not verified (no CA: sslmode require)", nil
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inter})
	return "chain verifies against " + v.caName, err
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
	return fmt.Sprintf("CN=%s (%s; issuer CN=%s; expires %s)", c.Subject.CommonName, names, c.Issuer.CommonName,
		authmodes.When(c.NotAfter, now))
}

// stamp formats a time for doctor's lines.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
