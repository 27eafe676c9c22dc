package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
)

func TestFormatCheck(t *testing.T) {
	for _, tc := range []struct {
		c    authmodes.Check
		want string
	}{
		{authmodes.Pass("dns", "localhost resolves to 127.0.0.1"), "ok   dns: localhost resolves to 127.0.0.1"},
		{authmodes.Fail("spn", "service principal x is not known", "check --krbsrvname"), "FAIL spn: service principal x is not known — check --krbsrvname"},
		{authmodes.Fail("tls", "no certificate", ""), "FAIL tls: no certificate"},
		{authmodes.Skip("login", "fix the failed step(s) first: spn"), "skip login: fix the failed step(s) first: spn"},
		{authmodes.Check{Step: "kdc", Status: authmodes.StatusFail, Detail: "line one\n  line two", Fix: "do\nthis"}, "FAIL kdc: line one line two — do this"},
		{authmodes.Check{Step: "x", Status: authmodes.StatusSkip, Detail: "why", Fix: "ignored"}, "skip x: why"},
	} {
		if got := formatCheck(tc.c); got != tc.want {
			t.Errorf("formatCheck(%+v)\n got %q\nwant %q", tc.c, got, tc.want)
		}
	}
}

func TestFailErrSplitsTheAdvice(t *testing.T) {
	for _, tc := range []struct{ msg, detail, fix string }{
		{`Vault has no role "nosuch" at database/creds/nosuch: check --vault-role and --vault-mount`,
			`Vault has no role "nosuch" at database/creds/nosuch`, "check --vault-role and --vault-mount"},
		{"keytab /x: no such file or directory: check --keytab (authbench stack env exports AUTHBENCH_KEYTAB)",
			"keytab /x: no such file or directory", "check --keytab (authbench stack env exports AUTHBENCH_KEYTAB)"},
		{"cannot reach the KDC of realm R at a:1 (from /k): is it running? (authbench stack up starts the stack's KDC)",
			"cannot reach the KDC of realm R at a:1 (from /k)", "is it running? (authbench stack up starts the stack's KDC)"},
		{"x509: certificate signed by unknown authority", "x509: certificate signed by unknown authority", ""},
		{"read tcp 127.0.0.1:5: use of closed network connection", "read tcp 127.0.0.1:5: use of closed network connection", ""},
		{"keytab /tmp: read /tmp: is a directory", "keytab /tmp: read /tmp: is a directory", ""},
		{"password file: open /x: no such file or directory (check --password-file)", "password file: open /x: no such file or directory (check --password-file)", ""},
	} {
		c := authmodes.FailErr("s", errors.New(tc.msg))
		if c.Status != authmodes.StatusFail || c.Detail != tc.detail || c.Fix != tc.fix {
			t.Errorf("FailErr(%q) = %q / %q, want %q / %q", tc.msg, c.Detail, c.Fix, tc.detail, tc.fix)
		}
	}
}

func TestSequenceSkipsAfterAFailureNamingIt(t *testing.T) {
	var seq authmodes.Sequence
	ran := 0
	step := func(c authmodes.Check) func() authmodes.Check { return func() authmodes.Check { ran++; return c } }
	seq.Run("a", step(authmodes.Pass("", "fine")))
	seq.Run("b", step(authmodes.Skip("", "does not apply")))
	seq.Run("c", step(authmodes.Fail("", "broken", "fix it")))
	seq.Run("d", step(authmodes.Pass("", "never run")))
	seq.Add(authmodes.Pass("", "independent").As("e"))
	seq.SkipRest("f", "g")
	got := make([]string, 0, len(seq.Checks))
	for _, c := range seq.Checks {
		got = append(got, formatCheck(c))
	}
	want := []string{"ok   a: fine", "skip b: does not apply", "FAIL c: broken — fix it", "skip d: needs step c", "ok   e: independent",
		"skip f: needs step c", "skip g: needs step c"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || ran != 3 || !seq.Broken() {
		t.Errorf("sequence (ran %d, broken %v):\n%s\nwant:\n%s", ran, seq.Broken(), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWhen(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{3*24*time.Hour + 4*time.Hour, "2026-01-04T04:00:00Z, in 3d4h"},
		{2*time.Hour + 5*time.Minute, "2026-01-01T02:05:00Z, in 2h5m"},
		{-(90 * time.Second), "2025-12-31T23:58:30Z, 1m30s ago"},
		{12 * time.Second, "2026-01-01T00:00:12Z, in 12s"},
	} {
		if got := authmodes.When(now.Add(tc.d), now); got != tc.want {
			t.Errorf("When(now%+v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestReportResult(t *testing.T) {
	var out bytes.Buffer
	r := &doctorReport{w: &out}
	r.add(authmodes.Pass("dns", "ok"), authmodes.Skip("tls", "off"))
	if err := r.result(); err != nil {
		t.Errorf("no failure, got %v", err)
	}
	r.add(authmodes.Fail("kdc", "down", "start it"), authmodes.Fail("login", "refused", ""))
	err := r.result()
	if err == nil || !strings.Contains(err.Error(), "2 of 4 steps failed (kdc, login)") {
		t.Errorf("result = %v, want 2 of 4 steps failed (kdc, login)", err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 4 {
		t.Errorf("printed %d lines, want one per check:\n%s", len(lines), out.String())
	}
}

func TestCheckIssuer(t *testing.T) {
	pki := newTestPKI(t)
	leaf := pki.leaf(t, "bench_cert", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)).Leaf
	other := newTestPKI(t)
	cases := []struct {
		accepted [][]byte
		status   authmodes.Status
		want     string
	}{
		{nil, authmodes.StatusSkip, "unknown which CAs"},
		{[][]byte{other.ca.RawSubject, pki.ca.RawSubject}, authmodes.StatusOK, "from its issuer CN=" + pki.ca.Subject.CommonName},
		{[][]byte{other.ca.RawSubject}, authmodes.StatusFail, "not among the CAs the server accepts client certificates from (CN=" + other.ca.Subject.CommonName},
	}
	for _, tc := range cases {
		c := authmodes.CheckIssuer(leaf, tc.accepted, "client certificate")
		if c.Status != tc.status || !strings.Contains(c.Detail, tc.want) {
			t.Errorf("CheckIssuer with %d CAs = %s %q, want %s containing %q", len(tc.accepted), c.Status, c.Detail, tc.status, tc.want)
		}
	}
}

func TestJudgeServerCert(t *testing.T) {
	pki := newTestPKI(t)
	now := time.Now()
	good := pki.leaf(t, "localhost", now.Add(-time.Hour), now.Add(48*time.Hour)).Leaf
	expired := pki.leaf(t, "localhost", now.Add(-48*time.Hour), now.Add(-time.Hour)).Leaf
	full := tlsVerify{host: "localhost", roots: pki.pool(), checkName: true, caName: "--ca ca.crt"}
	wrongHost := full
	wrongHost.host = "db.example.com"
	verifyCA := wrongHost
	verifyCA.checkName = false
	foreign := full
	foreign.roots = newTestPKI(t).pool()
	for _, tc := range []struct {
		name   string
		leaf   *x509.Certificate
		v      tlsVerify
		status authmodes.Status
		want   []string
	}{
		{"verify-full", good, full, authmodes.StatusOK, []string{"CN=localhost", "SANs localhost, 127.0.0.1", "chain verifies against --ca ca.crt", "names --host localhost"}},
		{"expired", expired, full, authmodes.StatusFail, []string{"has expired", "renew the server certificate"}},
		{"wrong host", good, wrongHost, authmodes.StatusFail, []string{"does not name --host db.example.com", "SANs"}},
		{"verify-ca ignores the name", good, verifyCA, authmodes.StatusOK, []string{"host name not checked"}},
		{"unknown CA", good, foreign, authmodes.StatusFail, []string{"does not verify against --ca ca.crt", "unknown authority", "pass the CA"}},
		{"no CA (require)", good, tlsVerify{host: "localhost"}, authmodes.StatusOK, []string{"chain not verified"}},
	} {
		c := judgeServerCert([]*x509.Certificate{tc.leaf}, tc.v, now)
		line := formatCheck(c)
		if c.Status != tc.status || c.Step != "tls" {
			t.Errorf("%s: %s, want status %s", tc.name, line, tc.status)
		}
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: %q does not mention %q", tc.name, line, w)
			}
		}
	}
}

// TestDoctorStepOrder runs the whole doctor against a fake server that
// speaks TLS after an SSLRequest and a fake mode: the steps come in their
// fixed order, the mode learns the CAs the server accepts, and the login
// is skipped because a mode step failed.
func TestDoctorStepOrder(t *testing.T) {
	pki := newTestPKI(t)
	addr := fakeTLSServer(t, pki, 'S')
	mode := &fakeMode{checks: []authmodes.Check{authmodes.Pass("fake-a", "fine"), authmodes.Fail("fake-b", "broken", "fix b"), authmodes.Skip("fake-c", "needs step fake-b")}}
	out, err := runFakeDoctor(t, mode, "--host", "127.0.0.1", "--port", addr.port, "--ca", pki.caFile(t))
	assertSteps(t, out, "ok settings", "ok dns", "ok tcp", "ok tls", "ok fake-a", "FAIL fake-b", "skip fake-c", "skip login")
	if err == nil || !strings.Contains(err.Error(), "(fake-b)") {
		t.Errorf("result %v, want the failed step fake-b named", err)
	}
	if len(mode.env.ClientCAs) != 1 || !bytes.Equal(mode.env.ClientCAs[0], pki.ca.RawSubject) {
		t.Errorf("the mode got %d client CAs, want the server's one", len(mode.env.ClientCAs))
	}
	if mode.configured {
		t.Error("the login step configured the mode although a step had failed")
	}
}

func TestDoctorNetworkFailures(t *testing.T) {
	pki := newTestPKI(t)
	closed := closedPort(t)
	mode := &fakeMode{checks: []authmodes.Check{authmodes.Pass("fake", "fine")}}
	out, err := runFakeDoctor(t, mode, "--host", "127.0.0.1", "--port", closed, "--ca", pki.caFile(t))
	assertSteps(t, out, "ok settings", "ok dns", "FAIL tcp", "skip tls", "ok fake", "skip login")
	if !strings.Contains(out, "skip tls: needs step tcp") || !strings.Contains(out, "is the load balancer up?") || err == nil {
		t.Errorf("tcp failure not explained (err %v):\n%s", err, out)
	}

	noTLS := fakeTLSServer(t, pki, 'N')
	out, _ = runFakeDoctor(t, mode, "--host", "127.0.0.1", "--port", noTLS.port, "--ca", pki.caFile(t))
	assertSteps(t, out, "ok settings", "ok dns", "ok tcp", "FAIL tls", "ok fake", "skip login")
	if !strings.Contains(out, "refused TLS") {
		t.Errorf("an N answer is not explained:\n%s", out)
	}

	out, _ = runFakeDoctor(t, mode, "--host", "127.0.0.1", "--port", closed, "--ca", "")
	assertSteps(t, out, "FAIL settings", "skip network", "skip fake", "skip login")
}

// runFakeDoctor runs the doctor with mode and the flags in args.
func runFakeDoctor(t *testing.T, mode *fakeMode, args ...string) (string, error) {
	t.Helper()
	fs := newFlagSet("doctor")
	var c connFlags
	c.register(fs, nil, io.Discard)
	if err := fs.Parse(append([]string{"--auth", "fake"}, args...)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	d := &doctor{c: &c, mode: mode, timeout: 5 * time.Second, rep: &doctorReport{w: &out}}
	d.run(context.Background())
	return out.String(), d.rep.result()
}

// assertSteps checks the printed steps, given as "status step", in order.
func assertSteps(t *testing.T, out string, want ...string) {
	t.Helper()
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		status, rest, _ := strings.Cut(line, " ")
		step, _, _ := strings.Cut(strings.TrimSpace(rest), ":")
		got = append(got, status+" "+step)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("steps\n got %s\nwant %s\noutput:\n%s", strings.Join(got, ", "), strings.Join(want, ", "), out)
	}
}

// fakeMode is a mode whose checks are given.
type fakeMode struct {
	checks     []authmodes.Check
	env        authmodes.DiagnoseEnv
	configured bool
}

func (m *fakeMode) DefaultUser() string { return "bench" }

func (m *fakeMode) Configure(context.Context, *pgxpool.Config, authmodes.Env) error {
	m.configured = true
	return errors.New("fake mode: no login")
}

func (m *fakeMode) Settings() map[string]string { return nil }

func (m *fakeMode) Close() error { return nil }

func (m *fakeMode) Diagnose(_ context.Context, _ *pgxpool.Config, env authmodes.DiagnoseEnv) []authmodes.Check {
	m.env = env
	return m.checks
}

// testPKI is a CA for the unit tests.
type testPKI struct {
	ca  *x509.Certificate
	key *ecdsa.PrivateKey
}

var testSerial int64

// nextKey makes the key of the next certificate and takes its serial.
func nextKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	testSerial++
	return key
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	key := nextKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(testSerial), Subject: pkix.Name{CommonName: "test CA " + strconv.FormatInt(testSerial, 10)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return &testPKI{ca: ca, key: key}
}

// leaf issues a certificate for name (also a SAN, with 127.0.0.1).
func (p *testPKI) leaf(t *testing.T, name string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key := nextKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(testSerial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: notBefore, NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, key.Public(), p.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func (p *testPKI) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	return pool
}

// caFile writes the CA certificate to a file and returns its path.
func (p *testPKI) caFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ca.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type fakeAddr struct{ port string }

// fakeTLSServer answers each connection's SSLRequest with answer and, for
// 'S', does a TLS handshake with a certificate for 127.0.0.1 that asks for
// a client certificate from the CA.
func fakeTLSServer(t *testing.T, p *testPKI, answer byte) fakeAddr {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	cert := p.leaf(t, "127.0.0.1", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, ClientCAs: p.pool()}
	go func() {
		for {
			conn, err := lis.Accept()
			if err != nil {
				return
			}
			go serveFake(conn, cfg, answer)
		}
	}()
	_, port, _ := net.SplitHostPort(lis.Addr().String())
	return fakeAddr{port: port}
}

func serveFake(conn net.Conn, cfg *tls.Config, answer byte) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := make([]byte, 8)
	if _, err := io.ReadFull(conn, req); err != nil || !bytes.Equal(req, sslRequest) {
		return
	}
	conn.Write([]byte{answer})
	if answer == 'S' {
		tc := tls.Server(conn, cfg)
		tc.Handshake()
		io.Copy(io.Discard, tc)
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(lis.Addr().String())
	lis.Close()
	return port
}

// TestLoginFailureKeepsConnectErrorsHint checks the login step's line is
// connectError's, its hint becoming the fix.
func TestLoginFailureKeepsConnectErrorsHint(t *testing.T) {
	cfg, err := pgxpool.ParseConfig("postgresql://bench@db.example.com:26257/authbench")
	if err != nil {
		t.Fatal(err)
	}
	d := &doctor{c: &connFlags{auth: "password"}}
	c := d.loginFailure(cfg, errors.New("failed to connect to `user=bench database=authbench`: 127.0.0.1:26257 (db.example.com): dial error: connection refused"))
	line := formatCheck(c)
	want := "FAIL login: cannot connect to db.example.com:26257 as bench: 127.0.0.1:26257 (db.example.com): dial error: connection refused — is the database (or load balancer) up?"
	if c.Step != "login" || !strings.HasPrefix(line, want) || strings.HasSuffix(line, ")") {
		t.Errorf("login failure\n got %q\nwant %q…", line, want)
	}
}
