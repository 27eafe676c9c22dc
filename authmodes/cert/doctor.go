package cert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
)

var _ authmodes.Diagnoser = (*mode)(nil)

// Diagnose checks the client certificate step by step: the files, the key
// matching the certificate, CN = SQL user, the validity period and, when
// the server listed the CAs it accepts, the issuer. Key material is never
// shown.
func (m *mode) Diagnose(ctx context.Context, cfg *pgxpool.Config, env authmodes.DiagnoseEnv) []authmodes.Check {
	var seq authmodes.Sequence
	certFile, keyFile, err := m.files(cfg.ConnConfig.User)
	var leaf *x509.Certificate
	seq.Run("client-cert", func() authmodes.Check {
		if err != nil {
			return authmodes.Fail("", err.Error(), "pass --cert and --key, or --certs-dir, or run `eval \"$(authbench stack env)\"` first")
		}
		var c authmodes.Check
		leaf, c = readLeaf(certFile)
		return c
	})
	if seq.Broken() {
		seq.SkipRest("client-key", "cert-user", "cert-expiry", "cert-issuer")
		return seq.Checks
	}
	seq.Add(checkKey(certFile, keyFile).As("client-key"))
	seq.Add(checkCN(leaf, cfg.ConnConfig.User, certFile).As("cert-user"))
	seq.Add(checkPeriod(leaf, certFile, time.Now()).As("cert-expiry"))
	seq.Add(authmodes.CheckIssuer(leaf, env.ClientCAs, "client certificate").As("cert-issuer"))
	return seq.Checks
}

// files returns the certificate and key paths: --cert and --key, else
// client.<user>.crt and .key in --certs-dir. Configure and Diagnose use it.
func (m *mode) files(user string) (string, string, error) {
	certFile, keyFile := m.certFile, m.keyFile
	if certFile != "" && keyFile != "" {
		return certFile, keyFile, nil
	}
	if m.certsDir == "" {
		return "", "", fmt.Errorf("no client certificate: neither --cert/--key nor --certs-dir is set")
	}
	if certFile == "" {
		certFile = filepath.Join(m.certsDir, "client."+user+".crt")
	}
	if keyFile == "" {
		keyFile = filepath.Join(m.certsDir, "client."+user+".key")
	}
	return certFile, keyFile, nil
}

// readLeaf reads and parses the first certificate of a PEM file.
func readLeaf(path string) (*x509.Certificate, authmodes.Check) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, authmodes.Fail("", fmt.Sprintf("client certificate %s: %v", path, pathErr(err)), "check --cert or --certs-dir (and --user, which names client.<user>.crt)")
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, authmodes.Fail("", fmt.Sprintf("%s holds no PEM certificate", path), "point --cert at the PEM client certificate")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, authmodes.Fail("", fmt.Sprintf("%s: %v", path, err), "issue the client certificate again")
	}
	return leaf, authmodes.Pass("", fmt.Sprintf("%s: CN=%s, serial %s, issuer CN=%s", path, leaf.Subject.CommonName, leaf.SerialNumber.Text(16), leaf.Issuer.CommonName))
}

// checkKey checks the key file parses and belongs to the certificate.
func checkKey(certFile, keyFile string) authmodes.Check {
	if _, err := os.Stat(keyFile); err != nil {
		return authmodes.Fail("", fmt.Sprintf("client key %s: %v", keyFile, pathErr(err)), "check --key or --certs-dir")
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return authmodes.Fail("", fmt.Sprintf("client key %s does not go with %s: %s", keyFile, certFile, keyError(err)),
			"pass the key the certificate was issued for (--key)")
	}
	return authmodes.Pass("", fmt.Sprintf("%s parses and matches the certificate (key not shown)", keyFile))
}

// keyError names what is wrong with a key pair without quoting the key.
func keyError(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "does not match") {
		return "the private key does not match the certificate's public key"
	}
	return strings.TrimPrefix(msg, "tls: ")
}

// checkCN checks the certificate is for the SQL user.
func checkCN(leaf *x509.Certificate, user, path string) authmodes.Check {
	cn := leaf.Subject.CommonName
	if user != "" && cn != user {
		return authmodes.Fail("", fmt.Sprintf("%s is for user %q (its CN), not %q", path, cn, user),
			fmt.Sprintf("pass --user %s, or the certificate of %s as --cert", cn, user))
	}
	return authmodes.Pass("", fmt.Sprintf("CN %s is the SQL user", cn))
}

// checkPeriod checks the certificate is valid now and says until when.
func checkPeriod(leaf *x509.Certificate, path string, now time.Time) authmodes.Check {
	switch {
	case now.After(leaf.NotAfter):
		return authmodes.Fail("", fmt.Sprintf("client certificate %s expired at %s", path, authmodes.When(leaf.NotAfter, now)),
			"issue a new one (`authbench stack up` renews the stack's)")
	case now.Before(leaf.NotBefore):
		return authmodes.Fail("", fmt.Sprintf("client certificate %s is not valid before %s", path, authmodes.When(leaf.NotBefore, now)),
			"check the clocks of this machine and of the CA")
	}
	return authmodes.Pass("", "valid, expires "+authmodes.When(leaf.NotAfter, now))
}

// pathErr drops the path an *fs.PathError repeats.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
