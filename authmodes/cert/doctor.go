package cert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/doctor"
	"github.com/authbench/authbench/fix"
)

var _ doctor.Diagnoser = (*mode)(nil)

// Diagnose checks the client certificate step by step: the files, the key
// matching the certificate, CN = SQL user, the validity period and, when
// the server listed the CAs it accepts, the issuer. Key material is never
// shown.
func (m *mode) Diagnose(ctx context.Context, cfg *pgxpool.Config, env doctor.Env) []doctor.Check {
	var seq doctor.Sequence
	certFile, keyFile, err := m.files(cfg.ConnConfig.User)
	var leaf *x509.Certificate
	seq.Run("client-cert", func() doctor.Check {
		if err != nil {
			return doctor.FromErr("", err)
		}
		var c doctor.Check
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
	seq.Add(doctor.CheckIssuer(leaf, env.ClientCAs, "client certificate").As("cert-issuer"))
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
		return "", "", &fix.Error{Step: "client-cert",
			What: fix.Textf("no client certificate: neither %v/%v nor %v is set", fix.Flag("cert"), fix.Flag("key"), fix.Flag("certs-dir")),
			Fix:  fix.Textf("pass %v and %v, or %v, or run `eval \"$(%v)\"` first", fix.Flag("cert"), fix.Flag("key"), fix.Flag("certs-dir"), fix.Command("stack env"))}
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
func readLeaf(path string) (*x509.Certificate, doctor.Check) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, doctor.Fail("", fix.Textf("client certificate %s: %v", path, pathErr(err)),
			fix.Textf("check %v or %v (and %v, which names client.<user>.crt)", fix.Flag("cert"), fix.Flag("certs-dir"), fix.Flag("user")))
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, doctor.Fail("", fix.Textf("%s holds no PEM certificate", path), fix.Textf("point %v at the PEM client certificate", fix.Flag("cert")))
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, doctor.Fail("", fix.Textf("%s: %v", path, err), fix.Textf("issue the client certificate again"))
	}
	return leaf, doctor.Pass("", "%s: CN=%s, serial %s, issuer CN=%s", path, leaf.Subject.CommonName, leaf.SerialNumber.Text(16), leaf.Issuer.CommonName)
}

// checkKey checks the key file parses and belongs to the certificate.
func checkKey(certFile, keyFile string) doctor.Check {
	if _, err := os.Stat(keyFile); err != nil {
		return doctor.Fail("", fix.Textf("client key %s: %v", keyFile, pathErr(err)), fix.Textf("check %v or %v", fix.Flag("key"), fix.Flag("certs-dir")))
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return doctor.Fail("", fix.Textf("client key %s does not go with %s: %s", keyFile, certFile, keyError(err)),
			fix.Textf("pass the key the certificate was issued for (%v)", fix.Flag("key")))
	}
	return doctor.Pass("", "%s parses and matches the certificate (key not shown)", keyFile)
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
func checkCN(leaf *x509.Certificate, user, path string) doctor.Check {
	cn := leaf.Subject.CommonName
	if user != "" && cn != user {
		return doctor.Fail("", fix.Textf("%s is for user %q (its CN), not %q", path, cn, user),
			fix.Textf("pass %v %s, or the certificate of %s as %v", fix.Flag("user"), cn, user, fix.Flag("cert")))
	}
	return doctor.Pass("", "CN %s is the SQL user", cn)
}

// checkPeriod checks the certificate is valid now and says until when.
func checkPeriod(leaf *x509.Certificate, path string, now time.Time) doctor.Check {
	switch {
	case now.After(leaf.NotAfter):
		return doctor.Fail("", fix.Textf("client certificate %s expired at %s", path, doctor.When(leaf.NotAfter, now)),
			fix.Textf("issue a new one (`%v` renews the stack's)", fix.Command("stack up")))
	case now.Before(leaf.NotBefore):
		return doctor.Fail("", fix.Textf("client certificate %s is not valid before %s", path, doctor.When(leaf.NotBefore, now)),
			fix.Textf("check the clocks of this machine and of the CA"))
	}
	return doctor.Pass("", "valid, expires %s", doctor.When(leaf.NotAfter, now))
}

// pathErr drops the path an *fs.PathError repeats.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
