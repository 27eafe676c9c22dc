package pki

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func newCA(t *testing.T) (*CA, string) {
	t.Helper()
	dir := t.TempDir()
	ca, err := LoadOrCreateCA(dir, "test CA")
	if err != nil {
		t.Fatal(err)
	}
	return ca, dir
}

func verify(t *testing.T, ca *CA, certPath string, usage x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	cert, err := ReadCert(certPath)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	opts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}
	if _, err := cert.Verify(opts); err != nil {
		t.Fatalf("chain does not verify: %v", err)
	}
	return cert
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
	}
}

func TestLoadOrCreateCAReuses(t *testing.T) {
	ca, dir := newCA(t)
	assertMode(t, filepath.Join(dir, "ca.key"), 0o600)
	again, err := LoadOrCreateCA(dir, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Cert.Equal(ca.Cert) {
		t.Error("second LoadOrCreateCA made a new CA instead of reusing the stored one")
	}
	if again.Cert.Subject.CommonName != "test CA" || !again.Cert.IsCA {
		t.Errorf("CA subject %q IsCA=%v", again.Cert.Subject.CommonName, again.Cert.IsCA)
	}
}

func TestLoadOrCreateCAIncomplete(t *testing.T) {
	_, dir := newCA(t)
	os.Remove(filepath.Join(dir, "ca.key"))
	if _, err := LoadOrCreateCA(dir, "x"); err == nil {
		t.Fatal("a CA directory without ca.key was accepted")
	}
}

func TestIssueServer(t *testing.T) {
	ca, dir := newCA(t)
	certPath, keyPath, err := ca.IssueServer(dir, "server", []string{"localhost", "127.0.0.1", "::1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert := verify(t, ca, certPath, x509.ExtKeyUsageServerAuth)
	if !slices.Equal(cert.DNSNames, []string{"localhost"}) {
		t.Errorf("DNS SANs %v", cert.DNSNames)
	}
	want := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	if len(cert.IPAddresses) != 2 || !cert.IPAddresses[0].Equal(want[0]) || !cert.IPAddresses[1].Equal(want[1]) {
		t.Errorf("IP SANs %v", cert.IPAddresses)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := cert.VerifyHostname(h); err != nil {
			t.Error(err)
		}
	}
	assertMode(t, keyPath, 0o600)
	if _, err := tls.LoadX509KeyPair(certPath, keyPath); err != nil {
		t.Errorf("cert and key do not match: %v", err)
	}
}

func TestIssueClientAndRotate(t *testing.T) {
	ca, dir := newCA(t)
	certPath, keyPath, err := ca.IssueClient(dir, "bench_cert", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(certPath) != "client.bench_cert.crt" || filepath.Base(keyPath) != "client.bench_cert.key" {
		t.Errorf("paths %s %s", certPath, keyPath)
	}
	first := verify(t, ca, certPath, x509.ExtKeyUsageClientAuth)
	if first.Subject.CommonName != "bench_cert" {
		t.Errorf("CN %q, want bench_cert", first.Subject.CommonName)
	}
	assertMode(t, keyPath, 0o600)

	if _, _, err := ca.IssueClient(dir, "bench_cert", time.Hour); err != nil {
		t.Fatal(err)
	}
	second := verify(t, ca, certPath, x509.ExtKeyUsageClientAuth)
	if second.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Error("rotation kept the serial number")
	}
	if second.SerialNumber.BitLen() < 64 {
		t.Errorf("serial %v looks too small for a random 128-bit value", second.SerialNumber)
	}
	if _, err := tls.LoadX509KeyPair(certPath, keyPath); err != nil {
		t.Errorf("rotated cert and key do not match: %v", err)
	}
	assertMode(t, keyPath, 0o600)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".crt" && filepath.Ext(e.Name()) != ".key" {
			t.Errorf("leftover file %s", e.Name())
		}
	}
}
