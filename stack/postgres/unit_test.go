package postgres

import (
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/authbench/authbench/stack"
)

func testState() *stack.State {
	s := &stack.State{Dir: "/tmp/s", AdminUser: stack.AdminUser, LBHost: stack.LBHost, LBPort: 5000, Database: stack.Database,
		CertsDir: "/tmp/s/certs", SecretsDir: "/tmp/s/secrets", CAFile: "/tmp/s/certs/ca.crt"}
	for _, u := range append(stack.DefaultUsers(), stack.User{Name: "svc.example", Method: stack.MethodCert}, stack.User{Name: "k", Method: stack.MethodGSS}) {
		s.AddUser(u)
	}
	s.ExtraHBA = []string{"hostssl all k 127.0.0.1/32 gss include_realm=0"}
	return s
}

func TestPGHBA(t *testing.T) {
	hba, err := view(testState()).pgHBA()
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
	s.AddUser(stack.User{Name: "a b", Method: stack.MethodCert})
	if _, err := view(s).pgHBA(); err == nil {
		t.Error("a role name with a space was accepted")
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
