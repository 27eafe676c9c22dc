package stack

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func testState() *State {
	s := &State{Dir: "/tmp/s", AdminUser: AdminUser, LBHost: LBHost, LBPort: 5000, StatsPort: 5001, Database: Database,
		CertsDir: "/tmp/s/certs", SecretsDir: "/tmp/s/secrets", CAFile: "/tmp/s/certs/ca.crt"}
	for _, u := range append(DefaultUsers(), User{Name: "svc.example", Method: MethodCert}, User{Name: "k", Method: MethodGSS}) {
		s.addUser(u)
	}
	s.ExtraHBA = []string{"hostssl all k 127.0.0.1/32 gss include_realm=0"}
	return s
}

func TestPGHBA(t *testing.T) {
	hba, err := testState().pgHBA()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(hba), "\n")
	want := []string{
		"hostssl all authbench_admin 127.0.0.1/32 cert",
		"hostssl all authbench_admin ::1/128 cert",
		"hostssl all bench_cert 127.0.0.1/32 cert",
		"hostssl all bench_password 127.0.0.1/32 scram-sha-256",
		`hostssl all "svc.example" 127.0.0.1/32 cert`,
		"hostssl all k 127.0.0.1/32 gss include_realm=0",
		"host all all 0.0.0.0/0 reject",
		"host all all ::/0 reject",
	}
	if got := lines[2:]; !slices.Equal(got, want) {
		t.Errorf("pg_hba.conf:\n%s\nwant rules:\n%s", hba, strings.Join(want, "\n"))
	}
	if strings.Contains(hba, "trust") {
		t.Error("pg_hba.conf has a trust line")
	}
}

func TestBadRoleName(t *testing.T) {
	s := testState()
	s.addUser(User{Name: "a b", Method: MethodCert})
	if _, err := s.pgHBA(); err == nil {
		t.Error("a role name with a space was accepted")
	}
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

func TestMissingBinaries(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	saved := pgBinDirs
	t.Cleanup(func() { pgBinDirs = saved })
	pgBinDirs = []string{empty}
	_, err := findBinaries()
	want := `postgresql 15 not found (initdb): run "make deps" or apt-get install postgresql`
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}

	for _, n := range []string{"initdb", "pg_ctl", "postgres"} {
		if err := os.WriteFile(filepath.Join(empty, n), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	savedHA := haproxyPaths
	t.Cleanup(func() { haproxyPaths = savedHA })
	haproxyPaths = nil
	_, err = findBinaries()
	if err == nil || !strings.HasPrefix(err.Error(), "haproxy 2.6 not found (haproxy): run") {
		t.Errorf("error %v, want haproxy not found", err)
	}
}

func TestUntraversableParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs PostgreSQL as another user")
	}
	if _, err := user.Lookup(pgSystemUser); err != nil {
		t.Skip("no postgres system user")
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := pgRunner(dir)
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+parent+":") {
		t.Errorf("error %v, want one naming %s", err, parent)
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
