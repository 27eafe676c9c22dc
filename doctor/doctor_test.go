package doctor

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
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/fix"
	"github.com/authbench/authbench/internal/pgwire"
	"github.com/authbench/authbench/stack/stacktest"
)

func TestSequenceSkipsAfterAFailureNamingIt(t *testing.T) {
	var seq Sequence
	ran := 0
	step := func(c Check) func() Check { return func() Check { ran++; return c } }
	seq.Run("a", step(Pass("", "fine")))
	seq.Run("b", step(Skip("", "does not apply")))
	seq.Run("c", step(Fail("", fix.Textf("broken"), fix.Textf("fix it"))))
	seq.Run("d", step(Pass("", "never run")))
	seq.Add(Pass("", "independent").As("e"))
	seq.SkipRest("f", "g")
	want := []string{"ok a", "skip b", "FAIL c", "skip d", "ok e", "skip f", "skip g"}
	if got := steps(seq.Checks); got != strings.Join(want, ", ") || ran != 3 || !seq.Broken() {
		t.Errorf("sequence (ran %d, broken %v): %s, want %s", ran, seq.Broken(), got, strings.Join(want, ", "))
	}
	for _, c := range seq.Checks[3:] {
		if c.Step != "e" && c.Detail.String() != "needs step c" {
			t.Errorf("skipped step %s: %q, want it to name step c", c.Step, c.Detail)
		}
	}
}

// steps renders checks as "status step, …".
func steps(checks []Check) string {
	var out []string
	for _, c := range checks {
		out = append(out, c.Status.String()+" "+c.Step)
	}
	return strings.Join(out, ", ")
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
		if got := When(now.Add(tc.d), now); got != tc.want {
			t.Errorf("When(now%+v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// TestFromErrTakesTheFix checks a failed check takes its fix from the
// *fix.Error in the chain, what the outer errors add staying in the
// detail, and that any other error is all detail.
func TestFromErrTakesTheFix(t *testing.T) {
	inner := &fix.Error{Step: "keytab", What: fix.Textf("keytab /x: no such file"), Fix: fix.Textf("check %v", fix.Flag("krb-keytab"))}
	c := FromErr("krb-credentials", fmt.Errorf("configure: %w", inner))
	if c.Step != "krb-credentials" || c.Status != StatusFail || !c.Fix.Refers(fix.Flag("krb-keytab")) || c.Detail.Refers(fix.Flag("krb-keytab")) {
		t.Errorf("FromErr = %+v: want the fix naming the keytab setting, apart from the detail", c)
	}
	if got := c.Detail.String(); got != "configure: keytab /x: no such file" {
		t.Errorf("detail %q, want the outer error's text around the inner detail", got)
	}
	plain := FromErr("tls", errors.New("x509: certificate signed by unknown authority"))
	if !plain.Fix.IsZero() || plain.Detail.String() != "x509: certificate signed by unknown authority" {
		t.Errorf("FromErr of a plain error = %+v, want all detail", plain)
	}
}

func TestCheckIssuer(t *testing.T) {
	pki := newTestPKI(t)
	leaf := pki.leaf(t, "bench_cert", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)).Leaf
	other := newTestPKI(t)
	cases := []struct {
		accepted [][]byte
		status   Status
		want     string // a fact the detail names
	}{
		{nil, StatusSkip, ""},
		{[][]byte{other.ca.RawSubject, pki.ca.RawSubject}, StatusOK, "CN=" + pki.ca.Subject.CommonName},
		{[][]byte{other.ca.RawSubject}, StatusFail, "CN=" + other.ca.Subject.CommonName},
	}
	for _, tc := range cases {
		c := CheckIssuer(leaf, tc.accepted, "client certificate")
		if c.Status != tc.status || !strings.Contains(c.Detail.String(), tc.want) {
			t.Errorf("CheckIssuer with %d CAs = %s %q, want %s naming %q", len(tc.accepted), c.Status, c.Detail, tc.status, tc.want)
		}
		if tc.status == StatusFail && c.Fix.IsZero() {
			t.Errorf("a foreign issuer has no fix")
		}
	}
}

func TestJudgeServerCert(t *testing.T) {
	pki := newTestPKI(t)
	now := time.Now()
	good := pki.leaf(t, "localhost", now.Add(-time.Hour), now.Add(48*time.Hour)).Leaf
	expired := pki.leaf(t, "localhost", now.Add(-48*time.Hour), now.Add(-time.Hour)).Leaf
	full := tlsVerify{host: "localhost", roots: pki.pool(), checkName: true, caName: fix.Textf("%v ca.crt", fix.Flag("ca"))}
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
		status Status
		ref    any      // what the fix names (failures)
		facts  []string // what the detail names
	}{
		{"verify-full", good, full, StatusOK, nil, []string{"CN=localhost", "SANs localhost, 127.0.0.1", "ca.crt"}},
		{"expired", expired, full, StatusFail, fix.Command("stack up"), nil},
		{"wrong host", good, wrongHost, StatusFail, fix.Flag("host"), []string{"db.example.com", "SANs"}},
		{"verify-ca ignores the name", good, verifyCA, StatusOK, nil, nil},
		{"unknown CA", good, foreign, StatusFail, fix.Flag("ca"), []string{"ca.crt", "unknown authority"}},
		{"no CA (require)", good, tlsVerify{host: "localhost"}, StatusOK, nil, nil},
	} {
		c := judgeServerCert([]*x509.Certificate{tc.leaf}, tc.v, now)
		if c.Status != tc.status || c.Step != "tls" || (tc.ref != nil && !c.Fix.Refers(tc.ref)) {
			t.Errorf("%s: %s %s (fix %q), want %s with a fix naming %v", tc.name, c.Status, c.Step, c.Fix, tc.status, tc.ref)
		}
		for _, f := range tc.facts {
			if !strings.Contains(c.Detail.String(), f) {
				t.Errorf("%s: %q does not name %q", tc.name, c.Detail, f)
			}
		}
	}
}

// TestDoctorStepOrder runs the doctor against a fake server that speaks
// TLS after an SSLRequest and a fake mode: the steps come in their fixed
// order, the mode learns the CAs the server accepts, and the login is
// skipped because a mode step failed.
func TestDoctorStepOrder(t *testing.T) {
	pki := newTestPKI(t)
	port := fakeTLSServer(t, pki, 'S')
	mode := &fakeMode{checks: []Check{Pass("fake-a", "fine"), Fail("fake-b", fix.Textf("broken"), fix.Textf("fix b")), Skip("fake-c", "needs step fake-b")}}
	checks, d := runFake(t, mode, port, pki.caFile(t))
	if got, want := steps(checks), "ok dns, ok tcp, ok tls, ok fake-a, FAIL fake-b, skip fake-c, skip login"; got != want {
		t.Errorf("steps\n got %s\nwant %s", got, want)
	}
	if len(d.failed) != 1 || d.failed[0] != "fake-b" {
		t.Errorf("failed steps %v, want fake-b", d.failed)
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
	closed := strconv.Itoa(stacktest.ClosedPort(t))
	mode := &fakeMode{checks: []Check{Pass("fake", "fine")}}
	checks, _ := runFake(t, mode, closed, pki.caFile(t))
	if got, want := steps(checks), "ok dns, FAIL tcp, skip tls, ok fake, skip login"; got != want {
		t.Errorf("steps\n got %s\nwant %s", got, want)
	}
	if tcp := checks[1]; !tcp.Fix.Refers(fix.Flag("port")) || !tcp.Fix.Refers(fix.Command("stack up")) || checks[2].Detail.String() != "needs step tcp" {
		t.Errorf("tcp failure %+v: want a fix naming the port and stack up, and tls skipped naming tcp", tcp)
	}

	noTLS := fakeTLSServer(t, pki, 'N')
	checks, _ = runFake(t, mode, noTLS, pki.caFile(t))
	if got, want := steps(checks), "ok dns, ok tcp, FAIL tls, ok fake, skip login"; got != want {
		t.Errorf("steps\n got %s\nwant %s", got, want)
	}
	if tlsCheck := checks[2]; !tlsCheck.Fix.Refers(fix.Flag("port")) || !strings.Contains(tlsCheck.Detail.String(), pgwire.ErrNoTLS.Error()) {
		t.Errorf("an N answer: %+v, want the refusal and a fix naming the port", tlsCheck)
	}
}

// TestConnectErrorFix checks the fix of a failed first connection follows
// the driver's classification and keeps the cause in the chain.
func TestConnectErrorFix(t *testing.T) {
	cfg, err := pgxpool.ParseConfig("postgresql://bench@db.example.com:26257/authbench")
	if err != nil {
		t.Fatal(err)
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for _, tc := range []struct {
		name string
		err  error
		refs []any
		cred bool
	}{
		{"refused", fmt.Errorf("failed to connect to `user=bench database=authbench`: %w", refused), []any{fix.Flag("host"), fix.Flag("port"), fix.Command("stack up")}, false},
		{"unknown CA", fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), []any{fix.Flag("ca")}, true},
		{"refused credentials", fmt.Errorf("server error: %w", &pgconn.PgError{Code: "28P01"}), []any{fix.Flag("auth")}, true},
		{"no database", &pgconn.PgError{Code: "3D000"}, []any{fix.Flag("database")}, false},
	} {
		e := ConnectError(cfg, "password", tc.err)
		if e.Step != "connect" || e.CredentialFailure() != tc.cred || !errors.Is(e, tc.err) {
			t.Errorf("%s: %+v: want step connect, credential %v and the cause in the chain", tc.name, e, tc.cred)
		}
		for _, r := range tc.refs {
			if !e.Fix.Refers(r) {
				t.Errorf("%s: fix %q does not name %v", tc.name, e.Fix, r)
			}
		}
		if strings.Contains(e.Error(), "failed to connect to") {
			t.Errorf("%s: %q keeps pgx's preamble", tc.name, e)
		}
	}
}

// runFake runs the doctor with mode against 127.0.0.1:port, verifying the
// server with caFile, and returns the checks in order.
func runFake(t *testing.T, mode *fakeMode, port, caFile string) ([]Check, *Doctor) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig("postgresql://bench@127.0.0.1:" + port + "/authbench?sslmode=verify-full&sslrootcert=" + caFile)
	if err != nil {
		t.Fatal(err)
	}
	var checks []Check
	d := &Doctor{Mode: mode, ModeName: "fake", Timeout: 5 * time.Second, CA: fix.Textf("%v %s", fix.Flag("ca"), caFile),
		Report: func(c Check) { checks = append(checks, c) }}
	d.Run(context.Background(), cfg)
	return checks, d
}

// fakeMode is a mode whose checks are given.
type fakeMode struct {
	checks     []Check
	env        Env
	configured bool
}

func (m *fakeMode) DefaultUser() string { return "bench" }

func (m *fakeMode) Configure(context.Context, *pgxpool.Config, authmodes.Env) error {
	m.configured = true
	return errors.New("fake mode: no login")
}

func (m *fakeMode) Settings() map[string]string { return nil }

func (m *fakeMode) Close() error { return nil }

func (m *fakeMode) Diagnose(_ context.Context, _ *pgxpool.Config, env Env) []Check {
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

// fakeTLSServer answers each connection's SSLRequest with answer and, for
// 'S', does a TLS handshake with a certificate for 127.0.0.1 that asks for
// a client certificate from the CA; it returns its port.
func fakeTLSServer(t *testing.T, p *testPKI, answer byte) string {
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
	return port
}

func serveFake(conn net.Conn, cfg *tls.Config, answer byte) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := make([]byte, 8)
	if _, err := io.ReadFull(conn, req); err != nil || !bytes.Equal(req, pgwire.SSLRequest()) {
		return
	}
	conn.Write([]byte{answer})
	if answer == 'S' {
		tc := tls.Server(conn, cfg)
		tc.Handshake()
		io.Copy(io.Discard, tc)
	}
}
