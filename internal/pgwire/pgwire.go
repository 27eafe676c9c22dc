// Package pgwire holds the few pieces of PostgreSQL's wire protocol that
// authbench speaks itself, before pgx takes over: the SSLRequest that
// starts TLS and the codes of the untyped first messages.
package pgwire

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// Codes of the untyped first message a client sends.
const (
	// SSLRequestCode asks the server for TLS.
	SSLRequestCode = 80877103
	// GSSEncRequestCode asks the server for GSSAPI encryption.
	GSSEncRequestCode = 80877104
	// CancelRequestCode cancels a running query.
	CancelRequestCode = 80877102
)

// SSLRequest returns the 8-byte SSLRequest a client sends before TLS
// (CockroachDB answers it too).
func SSLRequest() []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint32(b[0:4], 8)
	binary.BigEndian.PutUint32(b[4:8], SSLRequestCode)
	return b
}

// ErrNoTLS is the server's 'N' answer to the SSLRequest.
var ErrNoTLS = errors.New("the server refused TLS (it answered N to the SSLRequest)")

// RequestTLS sends the SSLRequest on rw and reads the answer: nil for 'S'
// (the TLS handshake comes next), ErrNoTLS for 'N', else an error.
func RequestTLS(rw io.ReadWriter) error {
	if _, err := rw.Write(SSLRequest()); err != nil {
		return err
	}
	var answer [1]byte
	if _, err := io.ReadFull(rw, answer[:]); err != nil {
		return fmt.Errorf("no answer to the SSLRequest: %w", err)
	}
	switch answer[0] {
	case 'S':
		return nil
	case 'N':
		return ErrNoTLS
	}
	return fmt.Errorf("the server answered %q to the SSLRequest, which is not PostgreSQL's protocol", answer[0])
}

// ServerChain connects to the PostgreSQL server at addr (host:port), starts
// TLS with serverName as SNI and returns the certificate chain the server
// presents, leaf first. It verifies nothing: the caller judges the chain.
func ServerChain(ctx context.Context, addr, serverName string) ([]*x509.Certificate, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if err := RequestTLS(conn); err != nil {
		return nil, err
	}
	tc := tls.Client(conn, &tls.Config{ServerName: serverName, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return tc.ConnectionState().PeerCertificates, nil
}
