package stack

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func testState() *State {
	s := &State{Dir: "/tmp/s", AdminUser: AdminUser, LBHost: LBHost, LBPort: 5000, Database: Database,
		CertsDir: "/tmp/s/certs", SecretsDir: "/tmp/s/secrets", CAFile: "/tmp/s/certs/ca.crt"}
	for _, u := range append(DefaultUsers(), User{Name: "svc.example", Method: MethodCert}, User{Name: "k", Method: MethodGSS}) {
		s.addUser(u)
	}
	s.ExtraHBA = []string{"hostssl all k 127.0.0.1/32 gss include_realm=0"}
	return s
}

func TestEnvNames(t *testing.T) {
	s := testState()
	var names []string
	for _, e := range s.Env() {
		names = append(names, e.Name)
		if e.Name == "AUTHBENCH_PASSWORD_FILE" && e.Value != "/tmp/s/secrets/password.bench_password" {
			t.Errorf("AUTHBENCH_PASSWORD_FILE=%s", e.Value)
		}
	}
	want := []string{"AUTHBENCH_STACK_DIR", "AUTHBENCH_HOST", "AUTHBENCH_PORT", "AUTHBENCH_DATABASE",
		"AUTHBENCH_CA", "AUTHBENCH_CERTS_DIR", "AUTHBENCH_CERT_USER", "AUTHBENCH_PASSWORD_USER",
		"AUTHBENCH_PASSWORD_FILE", "AUTHBENCH_STATS_URL", "AUTHBENCH_ADMIN_USER", "AUTHBENCH_OWNER_ROLE"}
	if !slices.Equal(names, want) {
		t.Errorf("env names %v, want %v", names, want)
	}
}

func TestLoadWithoutStack(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if !errors.Is(err, ErrNoStack) || err.Error() != "no stack in "+dir {
		t.Errorf("Load error %v", err)
	}
	if err := Down(dir, nil); err != nil {
		t.Errorf("Down without a stack: %v", err)
	}
}

func TestConnStringQuotes(t *testing.T) {
	got := ConnString("sslcert", `/tmp/a b/it's\x`, "user", "u")
	want := `sslcert='/tmp/a b/it\'s\\x' user='u'`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestDownNamesUnregisteredComponents: a program without a component's
// package cannot stop it, and says so instead of leaving it silently.
func TestDownNamesUnregisteredComponents(t *testing.T) {
	dir := t.TempDir()
	state := `{"dir": "` + dir + `", "pg_data_dir": "` + dir + `/pg/data", "haproxy_config": "` + dir + `/haproxy/haproxy.cfg", "kerberos": {"kdc_dir": "` + dir + `/kdc"}}`
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(state), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Down(dir, nil)
	if err == nil || !strings.Contains(err.Error(), `component "kerberos"`) || !strings.Contains(err.Error(), "stack/all") {
		t.Errorf("Down error %v, want one naming the unregistered component", err)
	}
}

// TestSettleCAFile: clients trust the stack's CA alone, or with a
// ServerTLS a bundle of it and the component's CAs; while a ServerTLS is
// given up, Up keeps using the old bundle (which verifies both) and
// settles on the CA after.
func TestSettleCAFile(t *testing.T) {
	s := &State{CertsDir: t.TempDir()}
	if final := s.settleCAFile(); final != s.StackCAFile() || s.CAFile != final {
		t.Fatalf("no ServerTLS: final %s, CAFile %s; want %s", final, s.CAFile, s.StackCAFile())
	}
	s.SetServerTLS(&ServerTLS{By: "x", CAs: []string{"/x/bundle.pem"}})
	if final := s.settleCAFile(); final != s.serverTrustFile() || s.CAFile != final {
		t.Fatalf("with ServerTLS: final %s, CAFile %s; want %s", final, s.CAFile, s.serverTrustFile())
	}
	if err := os.WriteFile(s.CAFile, []byte("bundle"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.SetServerTLS(nil)
	if final := s.settleCAFile(); final != s.StackCAFile() || s.CAFile != s.serverTrustFile() {
		t.Fatalf("giving ServerTLS up: final %s, CAFile during Up %s; want %s then %s", final, s.CAFile, s.serverTrustFile(), s.StackCAFile())
	}
}
