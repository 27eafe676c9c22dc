package cert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/authmodes/authmodestest"
	"github.com/authbench/authbench/stack/pki"
)

// configure builds the mode against a pool config for user with the
// certificates in dir.
func configure(t *testing.T, dir, user string, ev *authmodestest.Recorder) (*mode, *pgxpool.Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	m := newMode(fs).(*mode)
	if err := fs.Parse([]string{"--certs-dir", dir}); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig("postgresql://" + user + "@localhost:1/db?sslmode=verify-full&sslrootcert=" + dir + "/ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	return m, cfg, m.Configure(context.Background(), cfg, authmodes.Env{Events: ev})
}

// aliceCA creates a CA in a temporary directory and issues alice's client
// certificate there.
func aliceCA(t *testing.T) (string, *pki.CA) {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(dir, "test CA")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ca.IssueClient(dir, "alice", time.Hour); err != nil {
		t.Fatal(err)
	}
	return dir, ca
}

func TestCertificateReadOnEveryConnectionAndRotationReported(t *testing.T) {
	dir, ca := aliceCA(t)
	ev := &authmodestest.Recorder{}
	_, cfg, err := configure(t, dir, "alice", ev)
	if err != nil {
		t.Fatal(err)
	}
	get := cfg.ConnConfig.TLSConfig.GetClientCertificate
	first, err := get(&tls.CertificateRequestInfo{})
	if err != nil || first.Leaf.Subject.CommonName != "alice" {
		t.Fatalf("first certificate: %v %v", first, err)
	}
	if got := ev.Events(); len(got) != 0 {
		t.Fatalf("no rotation yet, got events %v", got)
	}
	if _, _, err := ca.IssueClient(dir, "alice", time.Hour); err != nil { // the issuer rotates
		t.Fatal(err)
	}
	second, err := get(&tls.CertificateRequestInfo{})
	if err != nil || second.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
		t.Fatalf("the replaced file was not read: %v", err)
	}
	got := ev.Events()
	if len(got) != 1 || got[0].Kind != "rotation" || got[0].Source != "cert" || !got[0].Rotation ||
		!strings.HasPrefix(got[0].Detail, "new client certificate serial=") {
		t.Fatalf("events %v, want one rotation", got)
	}
}

func TestBadCertificatesFailAtConfigure(t *testing.T) {
	dir, _ := aliceCA(t)
	if _, _, err := configure(t, dir, "bob", &authmodestest.Recorder{}); err == nil || !strings.Contains(err.Error(), "client.bob.crt") {
		t.Errorf("missing certificate: %v", err)
	}
	if err := checkLeaf(mustLeaf(t, dir, "alice"), "bob", "x.crt"); err == nil || !strings.Contains(err.Error(), `is for user "alice"`) {
		t.Errorf("wrong CN: %v", err)
	}
	leaf := mustLeaf(t, dir, "alice")
	leaf.NotAfter = time.Now().Add(-time.Minute)
	if err := checkLeaf(leaf, "alice", "x.crt"); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired: %v", err)
	}
}

func mustLeaf(t *testing.T, dir, user string) *x509.Certificate {
	t.Helper()
	c, err := pki.ReadCert(dir + "/client." + user + ".crt")
	if err != nil {
		t.Fatal(err)
	}
	return c
}
