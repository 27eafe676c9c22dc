package kdc_test

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/kdc"
	"github.com/authbench/authbench/stack/stacktest"
)

func TestKerberosEnv(t *testing.T) {
	s := &stack.State{Dir: "/s", LBHost: stack.LBHost,
		Users: []stack.User{{Name: "bench_cert", Method: stack.MethodCert}, {Name: "k1", Method: stack.MethodGSS}, {Name: "k2", Method: stack.MethodGSS}}}
	stack.SetSection(s, kdc.Name, &kdc.State{Krb5Conf: "/s/kdc/krb5.conf", Realm: "R.TEST", KeytabDir: "/s/krb5"})
	env := map[string]string{}
	for _, e := range s.Env() {
		env[e.Name] = e.Value
	}
	for name, want := range map[string]string{
		"KRB5_CONFIG": "/s/kdc/krb5.conf", "AUTHBENCH_GSS_USER": "k1",
		"AUTHBENCH_KEYTAB": "/s/krb5/client.k1.keytab", "AUTHBENCH_KRB_REALM": "R.TEST",
	} {
		if env[name] != want {
			t.Errorf("%s=%q, want %q", name, env[name], want)
		}
	}
	if got := kdc.ServicePrincipals(s); !slices.Equal(got, []string{"postgres/localhost", "customspn/localhost"}) {
		t.Errorf("ServicePrincipals = %v", got)
	}
}

// TestKerberosStack brings up a stack with a KDC and checks what it made.
func TestKerberosStack(t *testing.T) {
	st := stacktest.Start(t, func(c *stack.Config) { kdc.Enable(c, kdc.Settings{TicketLifetime: time.Hour}) })
	ks := kdc.Of(st)
	if ks == nil || ks.Realm != "EXAMPLE.COM" || ks.TicketLifetimeS != 3600 {
		t.Fatalf("Kerberos state %+v, want realm EXAMPLE.COM and 3600s tickets", ks)
	}
	if u, _ := st.FirstUser(stack.MethodGSS); u.Name != kdc.DefaultGSSUser {
		t.Errorf("first gss user %q, want %s", u.Name, kdc.DefaultGSSUser)
	}
	assertKDCStatus(t, st.Dir, true)
	assertKeytab(t, ks.ServerKeytab, pgOwner(t), kdc.ServicePrincipals(st)...)
	assertKeytab(t, ks.ClientKeytab(kdc.DefaultGSSUser), os.Getuid(), kdc.DefaultGSSUser)
	gssLine := "hostssl all bench_gss 127.0.0.1/32 gss include_realm=0 krb_realm=EXAMPLE.COM"
	assertFileHas(t, filepath.Join(stacktest.PGDataDir(st), "pg_hba.conf"), gssLine, "hostssl all bench_cert 127.0.0.1/32 cert")
	assertFileHas(t, filepath.Join(stacktest.PGDataDir(st), "authbench.conf"), "krb_server_keyfile = '"+ks.ServerKeytab+"'")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	up := stack.Config{Dir: st.Dir}
	kdc.Enable(&up, kdc.Settings{TicketLifetime: 2 * time.Hour})
	again, err := stack.Up(ctx, up, nil)
	if err != nil {
		t.Fatalf("second Up: %v", err)
	}
	if kdc.Of(again).TicketLifetimeS != 7200 || kdc.Of(again).Realm != "EXAMPLE.COM" {
		t.Errorf("after Up with 2h tickets: %+v", kdc.Of(again))
	}
	other := stack.Config{Dir: st.Dir}
	kdc.Enable(&other, kdc.Settings{Realm: "OTHER.TEST"})
	_, err = stack.Up(ctx, other, nil)
	if err == nil || !strings.Contains(err.Error(), "EXAMPLE.COM") || strings.Contains(err.Error(), "\n") {
		t.Errorf("changing the realm: err %v, want one line naming EXAMPLE.COM", err)
	}
	// A user added later, even after that failed Up, must not cost the gss lines.
	if err := again.EnsureUser(ctx, stack.User{Name: "bench_cert_later", Method: stack.MethodCert}); err != nil {
		t.Fatal(err)
	}
	assertFileHas(t, filepath.Join(stacktest.PGDataDir(st), "pg_hba.conf"), gssLine, "hostssl all bench_cert_later 127.0.0.1/32 cert")
	assertFileHas(t, filepath.Join(stacktest.PGDataDir(st), "authbench.conf"), "krb_server_keyfile = '"+ks.ServerKeytab+"'")
	if err := stack.Down(st.Dir, nil); err != nil {
		t.Fatal(err)
	}
	assertKDCStatus(t, st.Dir, false)
}

func assertKDCStatus(t *testing.T, dir string, running bool) {
	t.Helper()
	comps, err := stack.Status(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range comps {
		if c.Name == "kdc" {
			if c.Running != running || (running && (c.PID == 0 || !strings.HasPrefix(c.Address, "127.0.0.1:"))) {
				t.Errorf("kdc status %s, want running=%v", c, running)
			}
			return
		}
	}
	t.Errorf("status has no kdc line: %v", comps)
}

// assertKeytab checks the keytab's mode, owner and principals.
func assertKeytab(t *testing.T, path string, uid int, principals ...string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || int(fi.Sys().(*syscall.Stat_t).Uid) != uid {
		t.Errorf("%s: mode %v uid %d, want 0600 and uid %d", path, fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid, uid)
	}
	kt, err := keytab.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var held []string
	for _, e := range kt.Entries {
		held = append(held, strings.Join(e.Principal.Components, "/"))
	}
	for _, p := range principals {
		if !slices.Contains(held, p) {
			t.Errorf("%s holds %v, not %s", path, held, p)
		}
	}
}

// pgOwner is the uid PostgreSQL runs as: postgres when we are root.
func pgOwner(t *testing.T) int {
	if os.Geteuid() != 0 {
		return os.Getuid()
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	return uid
}

func assertFileHas(t *testing.T, path string, lines ...string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if !slices.Contains(strings.Split(string(data), "\n"), l) {
			t.Errorf("%s lacks the line %q:\n%s", path, l, data)
		}
	}
}
