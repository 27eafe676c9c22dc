package gssapi

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/authbench/authbench/authmodes/authmodestest"
	"github.com/authbench/authbench/stack/kdc"
	"github.com/authbench/authbench/stack/stacktest"

	"github.com/authbench/authbench/fix"
)

// TestAgainstKDC checks logins, service tickets and the GSSAPI token with
// a real MIT KDC; PostgreSQL is not needed.
func TestAgainstKDC(t *testing.T) {
	f := startKDC(t, time.Hour)
	t.Run("keytab", func(t *testing.T) { checkKeytab(t, f) })
	t.Run("service-name", func(t *testing.T) { checkServiceName(t, f) })
	t.Run("password", func(t *testing.T) { checkPassword(t, f) })
	t.Run("ccache", func(t *testing.T) { checkCCache(t, f) })
	t.Run("errors", func(t *testing.T) { checkErrors(t, f) })
	t.Run("kdc-unreachable", func(t *testing.T) { checkUnreachable(t, f) })
}

func checkKeytab(t *testing.T, f *fixture) {
	c := mustConfigure(t, testURL, f.args("--krbsrvname", "customspn")...)
	if got := c.m.Settings()["spn"]; got != "customspn/localhost@"+f.k.Realm {
		t.Errorf("spn setting %q, want customspn/localhost@%s", got, f.k.Realm)
	}
	first := c.ev.Match(func(e authmodestest.Event) bool {
		return e.Kind == "login" && !e.Rotation && e.Source == "gssapi" && strings.HasPrefix(e.Detail, "bench_gss@"+f.k.Realm+" until ")
	})
	if len(first) != 1 {
		t.Errorf("%d first-login events, want 1: %v", len(first), c.ev.Events())
	}
	// BeforeConnect fetches the ticket; the provider then reuses it.
	if err := c.cfg.BeforeConnect(context.Background(), c.cfg.ConnConfig.Copy()); err != nil {
		t.Fatalf("BeforeConnect: %v", err)
	}
	t1, _ := c.m.sess.serviceTicket("customspn/localhost")
	t2, _ := c.m.sess.serviceTicket("customspn/localhost")
	if !bytes.Equal(t1.ticket.EncPart.Cipher, t2.ticket.EncPart.Cipher) {
		t.Error("a second lookup fetched a new service ticket instead of using the cached one")
	}
	acceptToken(t, f, "customspn")
}

// acceptToken builds the token a connection sends and accepts it with the
// server's keytab, as PostgreSQL's GSSAPI acceptor would.
func acceptToken(t *testing.T, f *fixture, srv string) {
	t.Helper()
	s := active.Load()
	if s == nil {
		t.Fatal("no active session after Configure")
	}
	b, err := (&gss{s: s}).GetInitToken("LocalHost", srv)
	if err != nil {
		t.Fatalf("GetInitToken: %v", err)
	}
	kt, err := keytab.Load(f.serverKT)
	if err != nil {
		t.Fatal(err)
	}
	var tok spnego.SPNEGOToken
	if err := tok.Unmarshal(b); err != nil {
		t.Fatalf("the token is not SPNEGO: %v", err)
	}
	if ok, _, st := spnego.SPNEGOService(kt, service.DecodePAC(false)).AcceptSecContext(&tok); !ok {
		t.Fatalf("the server keytab does not accept the token: %v", st)
	}
}

func checkServiceName(t *testing.T, f *fixture) {
	withURL := testURL + "&krbsrvname=customspn"
	if got := mustConfigure(t, withURL, f.args()...).m.Settings()["krbsrvname"]; got != "customspn" {
		t.Errorf("krbsrvname from the URL: %q, want customspn", got)
	}
	if got := mustConfigure(t, withURL, f.args("--krbsrvname", "postgres")...).m.Settings()["krbsrvname"]; got != "postgres" {
		t.Errorf("--krbsrvname over the URL: %q, want postgres", got)
	}
	t.Setenv("PGKRBSRVNAME", "customspn")
	if got := mustConfigure(t, testURL, f.args()...).m.Settings()["spn"]; !strings.HasPrefix(got, "customspn/localhost@") {
		t.Errorf("with PGKRBSRVNAME=customspn the SPN is %q", got)
	}
	c := mustConfigure(t, testURL, f.args("--krbspn", "postgres/localhost@"+f.k.Realm)...)
	if got := c.m.Settings()["spn"]; got != "postgres/localhost@"+f.k.Realm {
		t.Errorf("--krbspn: SPN %q", got)
	}
}

func checkPassword(t *testing.T, f *fixture) {
	const pw = "Kerberos-Test-Pw-1" // a throwaway test password
	if err := f.k.SetPassword(context.Background(), "bench_pw", pw); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "pw", pw+"\n")
	c := mustConfigure(t, testURL, "--krb5-conf", f.k.Krb5Conf, "--krb-principal", "bench_pw", "--krb-password-file", file, "--krbsrvname", "customspn")
	for k, v := range c.m.Settings() {
		if strings.Contains(v, pw) {
			t.Errorf("setting %s holds the password", k)
		}
	}
	_, err := configure(t, testURL, "--krb5-conf", f.k.Krb5Conf, "--krb-principal", "bench_pw", "--krb-password-file", writeFile(t, "bad", "wrong-one"))
	assertOneLine(t, err, "rejected the key of bench_pw@")
	if strings.Contains(err.Error(), "wrong-one") {
		t.Error("the error shows the password")
	}
}

func checkCCache(t *testing.T, f *fixture) {
	cc := filepath.Join(t.TempDir(), "ccache")
	t.Setenv("KRB5CCNAME", "FILE:"+cc)
	_, err := configure(t, testURL, f.args("--krb-source", "ccache")...)
	assertOneLine(t, err, "no Kerberos credentials cache at "+cc, "kinit")
	kinit := exec.Command("kinit", "-kt", f.keytab, "bench_gss@"+f.k.Realm)
	kinit.Env = append(os.Environ(), "KRB5_CONFIG="+f.k.Krb5Conf)
	if out, err := kinit.CombinedOutput(); err != nil {
		t.Fatalf("kinit: %v: %s", err, out)
	}
	c := mustConfigure(t, testURL, f.args("--krb-source", "ccache", "--krbsrvname", "customspn")...)
	if got := c.m.Settings()["krb_source"]; got != srcCCache {
		t.Errorf("source %q, want ccache", got)
	}
	acceptToken(t, f, "postgres")
	_, err = configure(t, testURL, f.args("--krb-source", "ccache", "--krb-relogin-every", "1m")...)
	assertOneLine(t, err, "a credential cache cannot log in again")
	if !fix.Refers(err, fix.Flag("krb-relogin-every"), fix.Flag("krb-keytab")) {
		t.Errorf("%v does not name the relogin-every and keytab settings", err)
	}
	_, err = configure(t, testURL, f.args("--krb-source", "ccache", "--krb-principal", "someone")...)
	assertOneLine(t, err, "holds tickets of bench_gss@", "kinit someone@")
}

func checkErrors(t *testing.T, f *fixture) {
	r := f.k.Realm
	for name, c := range map[string]struct {
		args  []string
		parts []string
		refs  []any // what the error's fix must name
	}{
		"unknown-spn": {f.args("--krbsrvname", "dummy"), []string{"dummy/localhost@" + r, "not found in Kerberos database"}, []any{fix.Flag("krbsrvname")}},
		"missing-keytab": {[]string{"--krb5-conf", f.k.Krb5Conf, "--krb-keytab", "/nonexistent/x.keytab"}, []string{"/nonexistent/x.keytab", "no such file"},
			[]any{fix.Flag("krb-keytab")}},
		"keytab-no-princ":  {f.args("--krb-principal", "postgres/localhost"), []string{"has no key for postgres/localhost@" + r, "holds bench_gss@" + r}, []any{fix.Flag("krb-principal")}},
		"realm-not-in-cfg": {f.args("--krb-principal", "bench_gss@OTHER.COM"), []string{"realm OTHER.COM", f.k.Krb5Conf}, nil},
		"unknown-client":   {[]string{"--krb5-conf", f.k.Krb5Conf, "--krb-principal", "nosuch", "--krb-password-file", writeFile(t, "pw", "x")}, []string{"nosuch@" + r, "not found in Kerberos database"}, nil},
		"no-profile":       {[]string{"--krb5-conf", "/nonexistent/krb5.conf", "--krb-keytab", f.keytab}, []string{"/nonexistent/krb5.conf", "KRB5_CONFIG"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := configure(t, testURL, c.args...)
			assertOneLine(t, err, c.parts...)
			if fe, ok := fix.As(err); !ok || !fe.CredentialFailure() || !fix.Refers(err, c.refs...) {
				t.Errorf("%v: want a credential failure naming %v", err, c.refs)
			}
		})
	}
}

// checkUnreachable points a copy of krb5.conf at a port nobody listens on.
func checkUnreachable(t *testing.T, f *fixture) {
	conf, err := os.ReadFile(f.k.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	dead := "127.0.0.1:" + strconv.Itoa(stacktest.ClosedPort(t))
	path := writeFile(t, "krb5.conf", strings.ReplaceAll(string(conf), "127.0.0.1:"+strconv.Itoa(f.k.Port), dead))
	_, err = configure(t, testURL, "--krb5-conf", path, "--krb-keytab", f.keytab, "--krb-principal", "bench_gss")
	assertOneLine(t, err, "cannot reach the KDC of realm "+f.k.Realm+" at "+dead, path)
}

// TestRenewal uses 3s tickets: the refresher must renew the TGT again and
// again, then --krb-relogin-every must log in afresh, and a KDC restart must be
// survived.
func TestRenewal(t *testing.T) {
	f := startKDC(t, 3*time.Second)
	c := mustConfigure(t, testURL, f.args("--krbsrvname", "customspn")...)
	c.ev.WaitFor(t, "renewal", 2, 30*time.Second, func(e authmodestest.Event) bool {
		return rotated("renewal")(e) && strings.HasPrefix(e.Detail, "bench_gss@")
	})
	if _, err := c.m.sess.serviceTicket("customspn/localhost"); err != nil {
		t.Errorf("service ticket after renewals: %v", err)
	}
	detail, err := c.m.ForceRotation(context.Background())
	if err != nil || !strings.Contains(detail, "bench_gss@"+f.k.Realm) {
		t.Errorf("ForceRotation = %q, %v", detail, err)
	}

	r := mustConfigure(t, testURL, f.args("--krbsrvname", "customspn", "--krb-relogin-every", "500ms")...)
	r.ev.WaitFor(t, "re-login", 2, 30*time.Second, rotated("login"))

	t.Run("kdc-restart", func(t *testing.T) {
		if err := kdc.Stop(f.k.Dir); err != nil {
			t.Fatal(err)
		}
		c.ev.WaitKind(t, "refresh_failed", 1, 30*time.Second)
		fresh := func(e authmodestest.Event) bool { return rotated("renewal")(e) || rotated("login")(e) }
		before := len(c.ev.Match(fresh))
		if _, err := kdc.Start(context.Background(), kdc.Config{Dir: f.k.Dir}); err != nil {
			t.Fatal(err)
		}
		c.ev.WaitFor(t, "login or renewal after the KDC came back", before+1, 30*time.Second, fresh)
		cc := &pgx.ConnConfig{}
		cc.Host, cc.KerberosSrvName = "localhost", "customspn"
		if _, err := c.m.sess.serviceTicket(spnFor(cc, c.m.sess.canonicalHost)); err != nil {
			t.Errorf("service ticket after the KDC restart: %v", err)
		}
	})
}
