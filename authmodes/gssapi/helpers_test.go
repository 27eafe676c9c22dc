package gssapi

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/authmodes/authmodestest"
	"github.com/authbench/authbench/stack/kdc"
)

// fixture is a real MIT KDC in a temporary directory with the principals
// the stack creates.
type fixture struct {
	k        *kdc.KDC
	keytab   string // bench_gss's client keytab
	serverKT string // customspn/localhost and postgres/localhost
}

// startKDC runs krb5kdc for the test and stops it when the test ends.
func startKDC(t *testing.T, life time.Duration) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real MIT KDC")
	}
	if _, err := exec.LookPath("kinit"); err != nil {
		t.Skip("MIT Kerberos client tools not installed (make deps)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	k, err := kdc.Start(ctx, kdc.Config{Dir: dir, TicketLifetime: life})
	t.Cleanup(func() {
		if err := kdc.Stop(dir); err != nil {
			t.Errorf("stop KDC: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{k: k, keytab: filepath.Join(dir, "client.keytab"), serverKT: filepath.Join(dir, "server.keytab")}
	for _, p := range []string{"bench_gss", "customspn/localhost", "postgres/localhost"} {
		if err := k.AddPrincipal(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.ExportKeytab(ctx, f.keytab, "bench_gss"); err != nil {
		t.Fatal(err)
	}
	if err := k.ExportKeytab(ctx, f.serverKT, "customspn/localhost", "postgres/localhost"); err != nil {
		t.Fatal(err)
	}
	return f
}

// args returns the flags that point the mode at the fixture, then extra.
func (f *fixture) args(extra ...string) []string {
	return append([]string{"--krb5-conf", f.k.Krb5Conf, "--krb-keytab", f.keytab, "--krb-principal", "bench_gss"}, extra...)
}

// rotated matches the events of kind that replaced the credential in use.
func rotated(kind string) func(authmodestest.Event) bool {
	return func(e authmodestest.Event) bool { return e.Kind == kind && e.Rotation && e.Source == "gssapi" }
}

// configured is a configured mode with its pool config and events.
type configured struct {
	m   *mode
	cfg *pgxpool.Config
	ev  *authmodestest.Recorder
}

// configure parses args into a fresh mode and configures it for url;
// the mode is closed when the test ends.
func configure(t *testing.T, url string, args ...string) (*configured, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	m := newMode(fs).(*mode)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	c := &configured{m: m, cfg: cfg, ev: &authmodestest.Recorder{}}
	err = m.Configure(context.Background(), cfg, authmodes.Env{Events: c.ev, Log: testLog{t}})
	t.Cleanup(func() { m.Close() })
	return c, err
}

// mustConfigure is configure that fails the test on error.
func mustConfigure(t *testing.T, url string, args ...string) *configured {
	t.Helper()
	c, err := configure(t, url, args...)
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return c
}

// testURL is a connection URL for bench_gss on localhost; no server is
// needed, Configure only talks to the KDC.
const testURL = "postgresql://bench_gss@LOCALHOST:5432/authbench?sslmode=disable"

// testLog sends the mode's log lines to t.Log.
type testLog struct{ t *testing.T }

// Write logs p.
func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// writeFile writes a 0600 file in a temporary directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertOneLine checks err is one line mentioning every part.
func assertOneLine(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not mention %q", msg, p)
		}
	}
}
