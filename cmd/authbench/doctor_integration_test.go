package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/doctor"
	"github.com/authbench/authbench/fix"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/kdc"
	"github.com/authbench/authbench/stack/pki"
	"github.com/authbench/authbench/stack/spiffe"
	"github.com/authbench/authbench/stack/spiffe/spire"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/stack/vault"
)

// TestDoctorAgainstStack runs `authbench doctor` for every auth mode
// against one stack with Kerberos, SPIFFE and Vault: all ok, then broken
// set-ups, each of which must name its failing step. The subtests that
// stop a server come last.
func TestDoctorAgainstStack(t *testing.T) {
	stacktest.RequireSPIRE(t)
	st := stacktest.Start(t, func(c *stack.Config) {
		kdc.Enable(c, kdc.Settings{})
		spiffe.Enable(c, spiffe.Settings{})
		vault.Enable(c, vault.Settings{})
	})
	f := &doctorFixture{st: st, c: newCLI(t, st), secrets: stackSecrets(t, st)}

	t.Run("healthy", f.testHealthy)
	t.Run("wrong-spn", f.testWrongSPN)
	t.Run("expired-cert", f.testExpiredCert)
	t.Run("wrong-vault-role", f.testWrongVaultRole)
	t.Run("agent-stopped", func(t *testing.T) { f.testAgentStopped(t) })
	t.Run("kdc-stopped", f.testKDCStopped) // last: the KDC stays stopped
}

// doctorFixture is the shared stack, the CLI and the secrets no output may
// hold.
type doctorFixture struct {
	st      *stack.State
	c       *cli
	secrets []string
}

// stackSecrets reads the stack's secrets: the password, the Vault token,
// role_id and secret_id.
func stackSecrets(t *testing.T, st *stack.State) []string {
	t.Helper()
	var out []string
	for _, p := range []string{st.PasswordFile, vault.Of(st).TokenFile, vault.Of(st).RoleIDFile, vault.Of(st).SecretIDFile} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSpace(string(b)))
	}
	return out
}

// doctor runs `authbench doctor` and checks the output holds no secret
// and is one well-formed line per step.
func (f *doctorFixture) doctor(t *testing.T, args ...string) outcome {
	t.Helper()
	o := f.c.with(t).run(append([]string{"doctor"}, args...)...)
	for _, s := range f.secrets {
		if strings.Contains(o.stdout+o.stderr, s) {
			t.Errorf("doctor %v printed a secret", args)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(o.stdout), "\n") {
		if !strings.HasPrefix(line, "ok   ") && !strings.HasPrefix(line, "FAIL ") && !strings.HasPrefix(line, "skip ") {
			t.Errorf("doctor %v: malformed line %q", args, line)
		}
	}
	return o
}

// checks runs the doctor's steps in this process, with the stack's
// environment, and returns them: the failure subtests assert on their
// Step, Status and Fix fields.
func (f *doctorFixture) checks(t *testing.T, args ...string) map[string]doctor.Check {
	t.Helper()
	for _, e := range f.st.Env() {
		t.Setenv(e.Name, e.Value)
	}
	fs := newFlagSet("doctor")
	var c connFlags
	c.register(fs, args, io.Discard)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	m, err := c.mode()
	if err != nil {
		t.Fatal(err)
	}
	rep := &doctorReport{w: io.Discard}
	runDoctorSteps(context.Background(), &c, m, doctorTimeout, rep)
	out := map[string]doctor.Check{}
	for _, ch := range rep.checks {
		out[ch.Step] = ch
	}
	return out
}

// assertCheck checks step's status and that its fix names every one of
// refs (fix.Flag or fix.Command values).
func assertCheck(t *testing.T, checks map[string]doctor.Check, step string, status doctor.Status, refs ...any) {
	t.Helper()
	c, ok := checks[step]
	if !ok || c.Status != status {
		t.Errorf("step %s: %s %q, want %s", step, c.Status, c.Detail, status)
		return
	}
	for _, r := range refs {
		if !c.Fix.Refers(r) {
			t.Errorf("step %s: fix %q does not name %v", step, c.Fix, r)
		}
	}
}

// stepLine returns the line of step, or "".
func stepLine(o outcome, step string) string {
	for _, line := range strings.Split(o.stdout, "\n") {
		if len(line) > 5 && strings.HasPrefix(line[5:], step+":") {
			return line
		}
	}
	return ""
}

// assertStep checks step's line has the status and mentions every part.
func assertStep(t *testing.T, o outcome, status, step string, parts ...string) {
	t.Helper()
	line := stepLine(o, step)
	if !strings.HasPrefix(line, status+" ") {
		t.Errorf("step %s: got %q, want %s\nstdout:\n%s\nstderr:\n%s", step, line, status, o.stdout, o.stderr)
		return
	}
	for _, p := range parts {
		if !strings.Contains(line, p) {
			t.Errorf("step %s: %q does not mention %q", step, line, p)
		}
	}
}

// assertFailed checks exit code 1, the one-line verdict on stderr naming
// step, and the skipped login (the printed lines: the CLI end to end).
func assertFailed(t *testing.T, o outcome, step string) {
	t.Helper()
	if o.code != 1 || !strings.Contains(o.stderr, "("+step+")") || strings.Count(strings.TrimSpace(o.stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q: want exit 1 and one line naming (%s)", o.code, o.stderr, step)
	}
	assertStep(t, o, "skip", "login", step)
}

func (f *doctorFixture) testHealthy(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		steps map[string][]string // step -> what its ok line must mention
	}{
		{[]string{"--auth", "cert"}, map[string][]string{"client-cert": {"CN=bench_cert"}, "cert-expiry": {"expires"}, "cert-issuer": {"CN=" + stack.CACommonName}}},
		{[]string{"--auth", "password"}, map[string][]string{"password-file": {f.st.PasswordFile, "not shown"}}},
		{[]string{"--auth", "gssapi"}, map[string][]string{"kdc": {"127.0.0.1:"}, "tgt": {"bench_gss@EXAMPLE.COM"}, "spn": {"postgres/localhost@EXAMPLE.COM"}, "clock": {"within"}}},
		{[]string{"--auth", "gssapi", "--krbsrvname", "customspn"}, map[string][]string{"spn": {"customspn/localhost@EXAMPLE.COM"}}},
		{[]string{"--auth", "spiffe"}, map[string][]string{"spiffe-socket": {spiffe.Of(f.st).Endpoint()}, "svid": {spiffe.Of(f.st).SPIFFEID, "expires"}, "svid-user": {spiffe.User}, "svid-issuer": {"accepts"}}},
		{[]string{"--auth", "vault"}, map[string][]string{"vault": {"unsealed"}, "vault-login": {vault.Of(f.st).TokenFile}, "vault-role": {"database/creds/" + vault.Role, "revoked"}}},
		{[]string{"--auth", "vault", "--vault-auth", "approle"}, map[string][]string{"vault-login": {"AppRole"}}},
		{[]string{"--auth", "vault", "--vault-static-role", vault.StaticRole}, map[string][]string{"vault-role": {"static-creds/" + vault.StaticRole}}},
	} {
		o := f.doctor(t, tc.args...)
		if o.code != 0 || strings.Contains(o.stdout, "FAIL") {
			t.Errorf("doctor %v: exit %d\nstdout:\n%s\nstderr:\n%s", tc.args, o.code, o.stdout, o.stderr)
			continue
		}
		for _, step := range []string{"settings", "dns", "tcp", "tls"} {
			assertStep(t, o, "ok  ", step)
		}
		for step, parts := range tc.steps {
			assertStep(t, o, "ok  ", step, parts...)
		}
		assertStep(t, o, "ok  ", "login", "SELECT 1 returned 1")
	}
}

func (f *doctorFixture) testWrongSPN(t *testing.T) {
	args := []string{"--auth", "gssapi", "--krbsrvname", "dummy"}
	assertFailed(t, f.doctor(t, args...), "spn")
	checks := f.checks(t, args...)
	assertCheck(t, checks, "spn", doctor.StatusFail, fix.Flag("krbsrvname"))
	if spn := checks["spn"]; !strings.Contains(spn.Detail.String(), "dummy/localhost@EXAMPLE.COM") || !strings.Contains(spn.Fix.String(), "customspn/localhost") {
		t.Errorf("spn: %q — %q: want the unknown SPN and the one the KDC knows", spn.Detail, spn.Fix)
	}
	assertCheck(t, checks, "tgt", doctor.StatusOK)
	assertCheck(t, checks, "login", doctor.StatusSkip)
}

func (f *doctorFixture) testExpiredCert(t *testing.T) {
	crt, key := expiredClientCert(t, f.st, "bench_cert")
	args := []string{"--auth", "cert", "--cert", crt, "--key", key}
	assertFailed(t, f.doctor(t, args...), "cert-expiry")
	checks := f.checks(t, args...)
	assertCheck(t, checks, "cert-expiry", doctor.StatusFail, fix.Command("stack up"))
	if d := checks["cert-expiry"].Detail.String(); !strings.Contains(d, crt) || !strings.Contains(d, "ago") {
		t.Errorf("cert-expiry: %q does not name the file and when it expired", d)
	}
	assertCheck(t, checks, "client-key", doctor.StatusOK)
}

// expiredClientCert issues, with the stack's CA, a client certificate for
// user that expired an hour ago; it returns the certificate and key files.
func expiredClientCert(t *testing.T, st *stack.State, user string) (string, string) {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(st.CertsDir, stack.CACommonName)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: user},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	crt, keyFile := filepath.Join(dir, "client."+user+".crt"), filepath.Join(dir, "client."+user+".key")
	if err := os.WriteFile(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return crt, keyFile
}

func (f *doctorFixture) testWrongVaultRole(t *testing.T) {
	args := []string{"--auth", "vault", "--vault-role", "nosuch"}
	assertFailed(t, f.doctor(t, args...), "vault-role")
	checks := f.checks(t, args...)
	assertCheck(t, checks, "vault-role", doctor.StatusFail, fix.Flag("vault-role"), fix.Flag("vault-mount"))
	assertCheck(t, checks, "vault-login", doctor.StatusOK)
}

func (f *doctorFixture) testAgentStopped(t *testing.T) {
	sp, err := spiffe.Of(f.st).SPIRE()
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Stop(spire.AgentProc, io.Discard); err != nil {
		t.Fatal(err)
	}
	assertFailed(t, f.doctor(t, "--auth", "spiffe"), "spiffe-socket")
	checks := f.checks(t, "--auth", "spiffe")
	assertCheck(t, checks, "spiffe-socket", doctor.StatusFail, fix.Command("stack up"))
	assertCheck(t, checks, "svid", doctor.StatusSkip)

	if _, err := stack.Up(context.Background(), stack.Config{Dir: f.st.Dir}, nil); err != nil {
		t.Fatal(err)
	}
	if o := f.doctor(t, "--auth", "spiffe"); o.code != 0 {
		t.Errorf("after the agent's restart: exit %d\n%s", o.code, o.stdout)
	}
}

func (f *doctorFixture) testKDCStopped(t *testing.T) {
	k, err := kdc.Load(kdc.Of(f.st).KDCDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := kdc.Stop(k.Dir); err != nil {
		t.Fatal(err)
	}
	assertFailed(t, f.doctor(t, "--auth", "gssapi"), "kdc")
	checks := f.checks(t, "--auth", "gssapi")
	assertCheck(t, checks, "kdc", doctor.StatusFail, fix.Command("stack up"))
	if d := checks["kdc"].Detail.String(); !strings.Contains(d, "127.0.0.1:"+strconv.Itoa(k.Port)) || !strings.Contains(d, kdc.Of(f.st).Krb5Conf) {
		t.Errorf("kdc: %q does not name the KDC's address and the profile", d)
	}
	assertCheck(t, checks, "krb-credentials", doctor.StatusOK)
	for _, step := range []string{"tgt", "spn"} {
		if c := checks[step]; c.Status != doctor.StatusSkip || c.Detail.String() != "needs step kdc" {
			t.Errorf("step %s: %s %q, want skipped naming kdc", step, c.Status, c.Detail)
		}
	}
}
