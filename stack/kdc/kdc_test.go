package kdc

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

func TestResolveDefaultsAndStoredState(t *testing.T) {
	s, err := resolve(Config{Dir: "/x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := state{Realm: DefaultRealm, TicketLifetime: 36000, RenewLifetime: 604800}
	if s != want {
		t.Fatalf("defaults = %+v, want %+v", s, want)
	}
	prev := &state{Realm: "R.TEST", Port: 1234, TicketLifetime: 30, RenewLifetime: 60}
	if s, _ = resolve(Config{Dir: "/x"}, prev); s != *prev {
		t.Fatalf("zero config over stored state = %+v, want %+v", s, *prev)
	}
	if _, err := resolve(Config{Dir: "/x", Realm: "OTHER.TEST"}, prev); err == nil {
		t.Fatal("changing the realm of an existing directory succeeded, want an error")
	}
	for _, bad := range []Config{{}, {Dir: "/x", Realm: "A B"}, {Dir: "/x", Port: 70000}, {Dir: "/x", TicketLifetime: time.Millisecond}} {
		if _, err := resolve(bad, nil); err == nil {
			t.Errorf("resolve(%+v) succeeded, want an error", bad)
		}
	}
}

func TestProfiles(t *testing.T) {
	s := state{Realm: "EXAMPLE.COM", Port: 8888, TicketLifetime: 30, RenewLifetime: 604800}
	kc := kdcConf("/d", s)
	for _, want := range []string{
		"kdc_listen = 127.0.0.1:8888", "kdc_tcp_listen = 127.0.0.1:8888",
		"database_name = /d/principal", "key_stash_file = /d/stash", "acl_file = /d/kadm5.acl",
		"max_life = 30s", "max_renewable_life = 604800s",
		"supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal",
	} {
		if !strings.Contains(kc, want) {
			t.Errorf("kdc.conf lacks %q:\n%s", want, kc)
		}
	}
	cc := krb5Conf(s)
	for _, want := range []string{
		"default_realm = EXAMPLE.COM", "dns_lookup_kdc = false", "dns_lookup_realm = false",
		"rdns = false", "udp_preference_limit = 1", "forwardable = true",
		"ticket_lifetime = 30s", "renew_lifetime = 604800s", "kdc = 127.0.0.1:8888",
		"localhost = EXAMPLE.COM",
	} {
		if !strings.Contains(cc, want) {
			t.Errorf("krb5.conf lacks %q:\n%s", want, cc)
		}
	}
	if _, err := config.NewFromString(cc); err != nil {
		t.Errorf("gokrb5 cannot parse krb5.conf: %v", err)
	}
}

func TestCheckPrincipal(t *testing.T) {
	k := &KDC{Realm: "EXAMPLE.COM"}
	for _, ok := range []string{"bench_gss", "customspn/localhost", "postgres/localhost@EXAMPLE.COM"} {
		if err := k.checkPrincipal(ok); err != nil {
			t.Errorf("checkPrincipal(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a;b", "a@OTHER.COM", `a"`, "-q"} {
		if err := k.checkPrincipal(bad); err == nil {
			t.Errorf("checkPrincipal(%q) succeeded, want an error", bad)
		}
	}
}

// TestRealKDC runs MIT krb5kdc and checks it with MIT's tools and with gokrb5.
func TestRealKDC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real MIT KDC; skipped in -short mode")
	}
	requireBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	k, err := Start(ctx, Config{Dir: dir, TicketLifetime: 30 * time.Second})
	t.Cleanup(func() {
		if err := Stop(dir); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	clientKT, serverKT := setupPrincipals(ctx, t, k)

	t.Run("MIT", func(t *testing.T) { checkMIT(ctx, t, k, clientKT, serverKT) })
	t.Run("gokrb5", func(t *testing.T) { checkGokrb5(t, k, clientKT, serverKT) })
	t.Run("Password", func(t *testing.T) { checkPassword(ctx, t, k) })
	t.Run("Idempotent", func(t *testing.T) { checkIdempotent(ctx, t, k) })
	t.Run("StopAndRestart", func(t *testing.T) { checkStopRestart(ctx, t, k, clientKT) })
}

func requireBinaries(t *testing.T) {
	t.Helper()
	for _, b := range []string{"krb5kdc", "kdb5_util", "kadmin.local", "kinit", "klist", "kvno"} {
		if _, err := lookBinary(b); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal(err)
			}
			t.Skip(err)
		}
	}
}

func setupPrincipals(ctx context.Context, t *testing.T, k *KDC) (clientKT, serverKT string) {
	t.Helper()
	for _, p := range []string{"bench_gss", "customspn/localhost", "postgres/localhost"} {
		if err := k.AddPrincipal(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	clientKT, serverKT = filepath.Join(k.Dir, "client.keytab"), filepath.Join(k.Dir, "server.keytab")
	if err := k.ExportKeytab(ctx, clientKT, "bench_gss"); err != nil {
		t.Fatal(err)
	}
	if err := k.ExportKeytab(ctx, serverKT, "customspn/localhost", "postgres/localhost"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{clientKT, serverKT} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("keytab %s: mode %v, err %v; want 0600", p, st.Mode().Perm(), err)
		}
	}
	return clientKT, serverKT
}

// krb runs an MIT client tool against k with its own credential cache.
func krb(ctx context.Context, t *testing.T, k *KDC, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "KRB5CCNAME=FILE:"+filepath.Join(k.Dir, "test.ccache"))
	for _, e := range k.Env() {
		cmd.Env = append(cmd.Env, e.String())
	}
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func checkMIT(ctx context.Context, t *testing.T, k *KDC, clientKT, serverKT string) {
	if out, err := krb(ctx, t, k, "", "kinit", "-kt", clientKT, "bench_gss@"+k.Realm); err != nil {
		t.Fatalf("kinit -kt: %v: %s", err, out)
	}
	out, err := krb(ctx, t, k, "", "klist")
	if err != nil {
		t.Fatalf("klist: %v: %s", err, out)
	}
	life := tgtLifetime(t, out, k.Realm)
	if life <= 0 || life > 30*time.Second {
		t.Errorf("TGT lifetime %s, want (0, 30s]; klist:\n%s", life, out)
	}
	// kvno -k decrypts the service ticket with the server keytab.
	if out, err := krb(ctx, t, k, "", "kvno", "-k", serverKT, "customspn/localhost"); err != nil {
		t.Errorf("kvno customspn/localhost: %v: %s", err, out)
	}
	out, err = krb(ctx, t, k, "", "kvno", "dummy/localhost")
	if err == nil || !strings.Contains(out, "not found in Kerberos database") {
		t.Errorf("kvno dummy/localhost: err %v, output %q; want 'not found in Kerberos database'", err, out)
	}
	// Re-exporting must not change keys: the first server keytab still works.
	if err := k.ExportKeytab(ctx, filepath.Join(k.Dir, "again.keytab"), "customspn/localhost"); err != nil {
		t.Fatal(err)
	}
	if out, err := krb(ctx, t, k, "", "kvno", "-k", serverKT, "customspn/localhost"); err != nil {
		t.Errorf("server keytab broke after re-export: %v: %s", err, out)
	}
}

// tgtLifetime finds the krbtgt line in C-locale klist output and returns
// Expires minus Valid starting.
func tgtLifetime(t *testing.T, klist, realm string) time.Duration {
	t.Helper()
	for _, l := range strings.Split(klist, "\n") {
		f := strings.Fields(l)
		if len(f) != 5 || f[4] != "krbtgt/"+realm+"@"+realm {
			continue
		}
		start, err1 := time.Parse("01/02/06 15:04:05", f[0]+" "+f[1])
		end, err2 := time.Parse("01/02/06 15:04:05", f[2]+" "+f[3])
		if err1 != nil || err2 != nil {
			t.Fatalf("cannot parse klist times in %q: %v %v", l, err1, err2)
		}
		return end.Sub(start)
	}
	t.Fatalf("no krbtgt ticket in klist output:\n%s", klist)
	return 0
}

func checkGokrb5(t *testing.T, k *KDC, clientKT, serverKT string) {
	cfg, err := config.Load(k.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	ckt, err := keytab.Load(clientKT)
	if err != nil {
		t.Fatal(err)
	}
	skt, err := keytab.Load(serverKT)
	if err != nil {
		t.Fatal(err)
	}
	cl := client.NewWithKeytab("bench_gss", k.Realm, ckt, cfg)
	defer cl.Destroy() // stops gokrb5's auto-renewal goroutine
	if err := cl.Login(); err != nil {
		t.Fatalf("gokrb5 Login: %v", err)
	}
	tkt, _, err := cl.GetServiceTicket("customspn/localhost")
	if err != nil {
		t.Fatalf("gokrb5 GetServiceTicket: %v", err)
	}
	if err := tkt.DecryptEncPart(skt, nil); err != nil {
		t.Fatalf("server keytab cannot decrypt gokrb5's service ticket: %v", err)
	}
	enc := tkt.DecryptedEncPart
	start := enc.StartTime
	if start.IsZero() { // MIT omits the optional starttime when it equals authtime
		start = enc.AuthTime
	}
	if life := enc.EndTime.Sub(start); life <= 0 || life > 30*time.Second {
		t.Errorf("service ticket lifetime %s, want (0, 30s]", life)
	}
	if enc.CName.PrincipalNameString() != "bench_gss" {
		t.Errorf("service ticket client %q, want bench_gss", enc.CName.PrincipalNameString())
	}
}

func checkPassword(ctx context.Context, t *testing.T, k *KDC) {
	const pw = "Correct-Horse-1" // test-only password
	if err := k.SetPassword(ctx, "bench_pw", pw); err != nil {
		t.Fatal(err)
	}
	if out, err := krb(ctx, t, k, pw+"\n", "kinit", "bench_pw@"+k.Realm); err != nil {
		t.Errorf("kinit with password: %v: %s", err, out)
	}
	cfg, err := config.Load(k.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	cl := client.NewWithPassword("bench_pw", k.Realm, pw, cfg)
	defer cl.Destroy()
	if err := cl.Login(); err != nil {
		t.Errorf("gokrb5 password Login: %v", err)
	}
	if err := k.SetPassword(ctx, "bench_pw", "two\nlines"); err == nil || strings.Contains(err.Error(), "two") {
		t.Errorf("SetPassword with a newline: err %v; want an error that does not echo the password", err)
	}
}

func checkIdempotent(ctx context.Context, t *testing.T, k *KDC) {
	again, err := Start(ctx, Config{Dir: k.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if again.PID != k.PID || again.Port != k.Port || again.TicketLifetime != 30*time.Second {
		t.Errorf("second Start = %+v, want the running %+v", again, k)
	}
	if err := k.AddPrincipal(ctx, "bench_gss"); err != nil {
		t.Errorf("AddPrincipal of an existing principal: %v", err)
	}
	loaded, err := Load(k.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if *loaded != *k {
		t.Errorf("Load = %+v, want %+v", loaded, k)
	}
}

func checkStopRestart(ctx context.Context, t *testing.T, k *KDC, clientKT string) {
	if err := Stop(k.Dir); err != nil {
		t.Fatal(err)
	}
	if k.Running() || alive(k.PID) {
		t.Fatalf("krb5kdc pid %d still running after Stop", k.PID)
	}
	if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(k.Port))); err == nil {
		c.Close()
		t.Fatalf("port %d still accepts connections after Stop", k.Port)
	}
	if err := Stop(k.Dir); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	k2, err := Start(ctx, Config{Dir: k.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if !k2.Running() || k2.PID == k.PID {
		t.Errorf("restart: running %v, pid %d (old %d)", k2.Running(), k2.PID, k.PID)
	}
	// The old client keytab still works only if the database was reused.
	if out, err := krb(ctx, t, k2, "", "kinit", "-kt", clientKT, "bench_gss@"+k2.Realm); err != nil {
		t.Errorf("kinit with the pre-restart keytab (database not reused?): %v: %s", err, out)
	}
}
