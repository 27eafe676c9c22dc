package gssapi

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/krberror"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/fix"
)

const testConf = `[libdefaults]
	default_realm = EXAMPLE.COM
	dns_canonicalize_hostname = false
[realms]
	EXAMPLE.COM = {
		kdc = 127.0.0.1:8888
	}
[domain_realm]
	localhost = EXAMPLE.COM
`

func testSession(t *testing.T) *session {
	t.Helper()
	cfg, err := config.NewFromString(testConf)
	if err != nil {
		t.Fatal(err)
	}
	src := &source{kind: srcKeytab, path: "/k.keytab", principal: "bench_gss@EXAMPLE.COM", realm: "EXAMPLE.COM",
		conf: &krbConf{path: "/etc/test-krb5.conf", cfg: cfg}}
	return newSession(src, nil, nil)
}

func TestSPNLikeLibpq(t *testing.T) {
	s := testSession(t)
	for _, c := range []struct {
		host, srv, spn, want string
	}{
		{"localhost", "", "", "postgres/localhost"},
		{"LocalHost.", "customspn", "", "customspn/localhost"},
		{"127.0.0.1", "customspn", "", "customspn/127.0.0.1"},
		{"localhost", "customspn", "other/lb.example.com@EXAMPLE.COM", "other/lb.example.com@EXAMPLE.COM"},
	} {
		cc := &pgx.ConnConfig{}
		cc.Host, cc.KerberosSrvName, cc.KerberosSpn = c.host, c.srv, c.spn
		if got := spnFor(cc, s.canonicalHost); got != c.want {
			t.Errorf("spnFor(host %q, krbsrvname %q, krbspn %q) = %q, want %q", c.host, c.srv, c.spn, got, c.want)
		}
	}
	if got := s.fullSPN("dummy/localhost"); got != "dummy/localhost@EXAMPLE.COM" {
		t.Errorf("fullSPN = %q", got)
	}
	if _, _, err := s.splitSPN("postgres/db@OTHER.COM"); err == nil {
		t.Error("a service principal in another realm was accepted")
	}
}

func TestExplain(t *testing.T) {
	s := testSession(t)
	kdcErr := func(code string) error {
		return krberror.Errorf(errors.New("KRB Error: "+code), krberror.KDCError, "TGS Exchange Error")
	}
	for _, c := range []struct {
		err   error
		spn   string
		step  string
		refs  []any
		parts []string
	}{
		{kdcErr("(7) KDC_ERR_S_PRINCIPAL_UNKNOWN Server not found in Kerberos database"), "dummy/localhost@EXAMPLE.COM", "spn",
			[]any{fix.Flag("krbsrvname"), fix.Flag("krbspn")}, []string{"dummy/localhost@EXAMPLE.COM", "not found in Kerberos database"}},
		{kdcErr("(6) KDC_ERR_C_PRINCIPAL_UNKNOWN Client not found"), "", "tgt", []any{fix.Flag("krb-principal")}, []string{"bench_gss@EXAMPLE.COM"}},
		{kdcErr("(37) KRB_AP_ERR_SKEW Clock skew too great"), "", "clock", nil, []string{"clock skew", "127.0.0.1:8888", "NTP"}},
		{krberror.NewErrorf(krberror.KRBMsgError, "clock skew with KDC too large. Greater than 300 seconds"), "", "clock", nil, []string{"clock skew"}},
		{kdcErr("(68) KDC_ERR_WRONG_REALM"), "", "tgt", []any{fix.Flag("krb-principal")}, []string{"does not serve realm EXAMPLE.COM"}},
		{kdcErr("(24) KDC_ERR_PREAUTH_FAILED"), "", "tgt", nil, []string{"rejected the key", "keytab"}},
		{krberror.Errorf(errors.New("error sending to a KDC: dial tcp 127.0.0.1:8888: connect: connection refused"), krberror.NetworkingError, "AS Exchange Error"),
			"", "kdc", []any{fix.Command("stack up")}, []string{"cannot reach the KDC of realm EXAMPLE.COM at 127.0.0.1:8888", "/etc/test-krb5.conf"}},
		{errors.New("something\nelse"), "", "tgt", nil, []string{"Kerberos error for bench_gss@EXAMPLE.COM: something else"}},
	} {
		err := s.explain(c.err, c.spn)
		assertOneLine(t, err, c.parts...)
		fe, ok := fix.As(err)
		if !ok || fe.Step != c.step || !fix.Refers(err, c.refs...) || fe.Err == nil {
			t.Errorf("explain(%v) = %#v: want step %s, a fix naming %v and the cause in the chain", c.err, fe, c.step, c.refs)
		}
	}
}

func TestKeytabHas(t *testing.T) {
	kt := keytab.New()
	if err := kt.AddEntry("bench_gss", "EXAMPLE.COM", "not-a-real-secret", time.Now(), 1, 18); err != nil {
		t.Fatal(err)
	}
	if err := keytabHas(kt, "/k", "bench_gss", "EXAMPLE.COM"); err != nil {
		t.Errorf("keytabHas = %v", err)
	}
	wrongRealm := keytabHas(kt, "/k", "bench_gss", "OTHER.COM")
	assertOneLine(t, wrongRealm, "realm is wrong", "bench_gss@EXAMPLE.COM")
	if !fix.Refers(wrongRealm, fix.Flag("krb-principal")) {
		t.Errorf("%v does not name the principal setting", wrongRealm)
	}
	assertOneLine(t, keytabHas(kt, "/k", "nosuch", "EXAMPLE.COM"), "no key for nosuch@EXAMPLE.COM", "bench_gss@EXAMPLE.COM")
}

func TestTGTTimes(t *testing.T) {
	now := time.Now()
	tg := tgt{start: now, end: now.Add(40 * time.Second), renewTill: now.Add(time.Hour), renewable: true}
	if got := tg.refreshAt().Sub(now); got != 30*time.Second {
		t.Errorf("refreshAt = start+%s, want +30s", got)
	}
	if !tg.canRenew(now) || tg.canRenew(now.Add(41*time.Second)) {
		t.Error("canRenew wrong around the end time")
	}
	if d := retryDelay(tg, now); d != maxRetry {
		t.Errorf("retryDelay with 40s left = %s, want %s", d, maxRetry)
	}
	if d := retryDelay(tg, now.Add(time.Minute)); d != minRetry {
		t.Errorf("retryDelay after expiry = %s, want %s", d, minRetry)
	}
}

func TestSourceKind(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--krb-keytab", "/k"}, srcKeytab},
		{[]string{"--krb-keytab", "/k", "--krb-password-file", "/p"}, srcPassword},
		{[]string{"--krb-keytab", ""}, srcCCache},
		{[]string{"--krb-keytab", "/k", "--krb-source", "ccache"}, srcCCache},
	} {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		m := newMode(fs).(*mode)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if got, err := m.sourceKind(); got != c.want || err != nil {
			t.Errorf("%v: source %q (%v), want %q", c.args, got, err, c.want)
		}
	}
	m := &mode{source: "keytab"}
	if err := errOf(m.sourceKind()); !fix.Refers(err, fix.Flag("krb-keytab")) {
		t.Errorf("%v does not name the keytab setting", err)
	}
	m.source = "nfs"
	if err := errOf(m.sourceKind()); !fix.Refers(err, fix.Flag("krb-source")) || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("%v does not call the krb-source unknown", err)
	}
}

func errOf(_ string, err error) error { return err }

func TestCCachePath(t *testing.T) {
	for in, want := range map[string]string{"FILE:/tmp/x": "/tmp/x", "/tmp/y": "/tmp/y"} {
		t.Setenv("KRB5CCNAME", in)
		if got, err := ccachePath(); got != want || err != nil {
			t.Errorf("KRB5CCNAME=%s: %q %v", in, got, err)
		}
	}
	t.Setenv("KRB5CCNAME", "KEYRING:persistent:0")
	_, err := ccachePath()
	assertOneLine(t, err, "KEYRING", "FILE:")
}

func TestContinueNeedsAcceptCompleted(t *testing.T) {
	g := &gss{s: testSession(t)}
	// NegTokenResp{negState: accept-completed}, as MIT's SPNEGO acceptor sends.
	done, out, err := g.Continue([]byte{0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00})
	if !done || out != nil || err != nil {
		t.Errorf("Continue(accept-completed) = %v %v %v", done, out, err)
	}
	// negState: reject.
	if _, _, err := g.Continue([]byte{0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02}); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("Continue(reject) error %v, want one line", err)
	}
}
