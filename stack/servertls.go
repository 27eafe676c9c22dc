package stack

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// Which certificate PostgreSQL presents, and what clients trust it by. By
// default it is the PKI's server certificate (ServerCertFiles), signed by
// the stack's CA (StackCAFile), and CAFile is that CA. A component may give
// PostgreSQL another identity (the SPIFFE component's server SVID) with
// SetServerTLS in its Merge: PostgreSQL then presents ServerTLS's files,
// and CAFile becomes a bundle of the stack's CA and ServerTLS.CAs, which
// Up writes and the component rewrites (WriteServerTrust) when its CAs
// change.

// ServerTLS is an identity a component gives PostgreSQL instead of the
// PKI's server certificate.
type ServerTLS struct {
	// By is the component that keeps the files current.
	By string `json:"by"`
	// CertFile is the certificate chain PostgreSQL presents (PEM).
	CertFile string `json:"cert_file"`
	// KeyFile is its private key.
	KeyFile string `json:"key_file"`
	// CAs are PEM files clients verify that certificate with.
	CAs []string `json:"cas"`
}

// SetServerTLS makes PostgreSQL present t's certificate (nil: the PKI's).
// Up clears it before the components' Merge, so a component that no longer
// asks for it gives the PKI's certificate back.
func (s *State) SetServerTLS(t *ServerTLS) { s.ServerTLS = t }

// StackCAFile is the stack's own CA certificate (the PKI's), which signs
// the PKI's server and client certificates.
func (s *State) StackCAFile() string { return filepath.Join(s.CertsDir, "ca.crt") }

// serverTrustFile is CAFile when a ServerTLS is set: the stack's CA and
// ServerTLS.CAs in one bundle.
func (s *State) serverTrustFile() string { return filepath.Join(s.CertsDir, "server-ca-bundle.crt") }

// PresentedServerCertFiles returns the certificate and key PostgreSQL
// presents: ServerTLS's when set, else the PKI's.
func (s *State) PresentedServerCertFiles() (certPath, keyPath string) {
	if t := s.ServerTLS; t != nil {
		return t.CertFile, t.KeyFile
	}
	return s.ServerCertFiles()
}

// settleCAFile returns the CAFile clients need for the certificate
// PostgreSQL presents once Up is done, and sets CAFile to what Up itself
// needs meanwhile: while PostgreSQL switches from a ServerTLS back to the
// PKI's certificate, the old bundle (which holds the stack's CA too) still
// verifies both.
func (s *State) settleCAFile() (final string) {
	final = s.StackCAFile()
	if s.ServerTLS != nil && len(s.ServerTLS.CAs) > 0 {
		final = s.serverTrustFile()
	}
	if !(s.CAFile == s.serverTrustFile() && exists(s.CAFile)) {
		s.CAFile = final
	}
	return final
}

// WriteServerTrust rewrites CAFile from the stack's CA and ServerTLS.CAs
// when it is a bundle (a no-op otherwise). Clients read it when they start,
// so a CA a component adds later reaches only clients started after.
func (s *State) WriteServerTrust() error {
	if s.CAFile != s.serverTrustFile() || s.ServerTLS == nil {
		return nil
	}
	data, err := ConcatPEM(append([]string{s.StackCAFile()}, s.ServerTLS.CAs...))
	if err != nil {
		return fmt.Errorf("server CA bundle: %w", err)
	}
	return WriteFileAtomic(s.CAFile, data, 0o644, nil)
}

// ConcatPEM returns the PEM certificate files at paths as one bundle, each
// checked to hold a certificate.
func ConcatPEM(paths []string) ([]byte, error) {
	var buf bytes.Buffer
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		if block, _ := pem.Decode(data); block == nil || block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate: pass a PEM bundle", path)
		}
		buf.Write(bytes.TrimSpace(data))
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}
