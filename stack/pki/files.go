package pki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"github.com/authbench/authbench/stack"
)

// ReadCert reads the first certificate from a PEM file.
func ReadCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate: remove it so it is issued again", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate %s: %w", path, err)
	}
	return cert, nil
}

func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s holds no PKCS#8 PEM private key: remove the CA directory to start over", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key %s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key in %s cannot sign: remove the CA directory to start over", path)
	}
	return signer, nil
}

// writePair writes the key first, then the certificate, so a reader that
// sees the new certificate also finds the new key next to it.
func writePair(dir, certName, keyName string, der []byte, key crypto.Signer, owner *Owner) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode private key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := WriteFileAtomic(filepath.Join(dir, keyName), keyPEM, 0o600, owner); err != nil {
		return err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return WriteFileAtomic(filepath.Join(dir, certName), certPEM, 0o644, nil)
}

// WriteFileAtomic is stack.WriteFileAtomic, for the callers of the
// library's earlier home.
func WriteFileAtomic(path string, data []byte, perm os.FileMode, owner *Owner) error {
	return stack.WriteFileAtomic(path, data, perm, owner)
}
