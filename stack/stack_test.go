package stack_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/internal/proc"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/haproxy"
	"github.com/authbench/authbench/stack/pki"
	"github.com/authbench/authbench/stack/postgres"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func certConnString(st *stack.State, user, certsDir string) string {
	crt, key := st.ClientCertFiles(user)
	if certsDir != "" {
		crt, key = certsDir+"/client."+user+".crt", certsDir+"/client."+user+".key"
	}
	return stacktest.LBConnString(st, user, "sslcert", crt, "sslkey", key)
}

func passwordConnString(t *testing.T, st *stack.State, user string) string {
	t.Helper()
	pw, err := os.ReadFile(st.UserPasswordFile(user))
	if err != nil {
		t.Fatal(err)
	}
	return stacktest.LBConnString(st, user, "password", strings.TrimSpace(string(pw)))
}

func expectRejected(t *testing.T, connString, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connString)
	if err == nil {
		conn.Close(ctx)
		t.Fatalf("%s was accepted", what)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || !strings.HasPrefix(pgErr.Code, "28") {
		t.Fatalf("%s failed, but not as an authentication error (SQLSTATE 28xxx): %v", what, err)
	}
}

func TestStack(t *testing.T) {
	st := stacktest.Start(t)

	t.Run("cert user through haproxy", func(t *testing.T) {
		conn := stacktest.Connect(t, certConnString(st, "bench_cert", ""))
		stacktest.AssertSession(t, conn, "bench_cert")
	})
	t.Run("password user through haproxy", func(t *testing.T) {
		conn := stacktest.Connect(t, passwordConnString(t, st, "bench_password"))
		stacktest.AssertSession(t, conn, "bench_password")
		assertNotLeaked(t, st, "bench_password")
	})
	t.Run("wrong password rejected", func(t *testing.T) {
		expectRejected(t, stacktest.LBConnString(st, "bench_password", "password", "not-the-password"), "a wrong password")
	})
	t.Run("cert for unknown user rejected", func(t *testing.T) {
		ca, err := pki.LoadOrCreateCA(st.CertsDir, stack.CACommonName)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, _, err := ca.IssueClient(dir, "intruder", time.Hour); err != nil {
			t.Fatal(err)
		}
		expectRejected(t, certConnString(st, "intruder", dir), "a cert for an unknown user")
	})
	t.Run("tables shared between users", func(t *testing.T) { testSharedTables(t, st) })
	t.Run("psql", func(t *testing.T) { testPsql(t, st) })
	t.Run("stats page", func(t *testing.T) { testStats(t, st) })
	t.Run("ensure user", func(t *testing.T) { testEnsureUser(t, st) })
	t.Run("haproxy runtime API", func(t *testing.T) { testDisableBackend(t, st) })
	t.Run("restart postgres", func(t *testing.T) { testRestart(t, st) })
	t.Run("up is idempotent", func(t *testing.T) { testUpAgain(t, st) })
	t.Run("down stops everything", func(t *testing.T) { testDown(t, st) })
}

func testSharedTables(t *testing.T, st *stack.State) {
	ctx := context.Background()
	owner := stacktest.Connect(t, certConnString(st, "bench_cert", ""))
	if _, err := owner.Exec(ctx, "CREATE TABLE shared_t (id serial PRIMARY KEY, v int)"); err != nil {
		t.Fatal(err)
	}
	other := stacktest.Connect(t, passwordConnString(t, st, "bench_password"))
	if _, err := other.Exec(ctx, "INSERT INTO shared_t (v) VALUES (1)"); err != nil {
		t.Fatalf("a table made by bench_cert is not usable by bench_password: %v", err)
	}
	if err := st.ExecAdmin(ctx, "DROP TABLE shared_t"); err != nil {
		t.Fatal(err)
	}
}

func testPsql(t *testing.T, st *stack.State) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatal("psql not found: run \"make deps\" or apt-get install postgresql-client")
	}
	out, err := exec.Command(psql, certConnString(st, "bench_cert", ""), "-Atc", "select 1").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("psql through haproxy: %v: %s", err, out)
	}
}

func testStats(t *testing.T, st *stack.State) {
	resp, err := http.Get(haproxy.Of(st).StatsURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stats page: HTTP %d", resp.StatusCode)
	}
	out, err := st.HAProxyCommand("show servers state " + stack.HAProxyBackend)
	if err != nil || !strings.Contains(out, stack.HAProxyServer) {
		t.Fatalf("runtime API: %v: %s", err, out)
	}
}

func testEnsureUser(t *testing.T, st *stack.State) {
	u := stack.User{Name: "bench_late", Method: stack.MethodCert}
	if err := st.EnsureUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureUser(context.Background(), u); err != nil {
		t.Fatalf("second EnsureUser: %v", err)
	}
	conn := stacktest.Connect(t, certConnString(st, u.Name, ""))
	stacktest.AssertSession(t, conn, u.Name)
}

func testUpAgain(t *testing.T, st *stack.State) {
	before, err := stack.Status(st.Dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := stack.Up(context.Background(), stack.Config{Dir: st.Dir}, nil)
	if err != nil {
		t.Fatalf("second Up: %v", err)
	}
	if again.LBPort != st.LBPort || again.PGPort != st.PGPort || haproxy.Of(again).StatsPort != haproxy.Of(st).StatsPort {
		t.Errorf("second Up changed ports: %+v vs %+v", again, st)
	}
	after, _ := stack.Status(st.Dir)
	for i := range before {
		if !before[i].Running || before[i].PID != after[i].PID {
			t.Errorf("second Up restarted %s: %v -> %v", before[i].Name, before[i], after[i])
		}
	}
	conn := stacktest.Connect(t, certConnString(st, "bench_cert", ""))
	stacktest.AssertSession(t, conn, "bench_cert")
}

func testDown(t *testing.T, st *stack.State) {
	before, err := stack.Status(st.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := stack.Down(st.Dir, &log); err != nil {
		t.Fatalf("down: %v", err)
	}
	for _, c := range before {
		if c.PID == 0 {
			t.Errorf("%s had no pid before Down", c.Name)
		}
		if proc.Alive(c.PID) {
			t.Errorf("%s (pid %d) still runs after Down", c.Name, c.PID)
		}
	}
	if err := stack.Down(st.Dir, nil); err != nil {
		t.Errorf("Down on a stopped stack: %v", err)
	}
}

// processExists reports whether pid is a live (not zombie) process.

func testDisableBackend(t *testing.T, st *stack.State) {
	server := stack.HAProxyBackend + "/" + stack.HAProxyServer
	if _, err := st.HAProxyCommand("disable server " + server); err != nil {
		t.Fatal(err)
	}
	expectNoConnection(t, certConnString(st, "bench_cert", ""))
	if _, err := st.HAProxyCommand("enable server " + server); err != nil {
		t.Fatal(err)
	}
	connectEventually(t, certConnString(st, "bench_cert", ""))
}

func testRestart(t *testing.T, st *stack.State) {
	before, _ := stack.Status(st.Dir)
	if err := st.RestartPostgres(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := stack.Status(st.Dir)
	if !after[0].Running || after[0].PID == before[0].PID {
		t.Errorf("postgres after restart: %v (before: %v)", after[0], before[0])
	}
	connectEventually(t, certConnString(st, "bench_cert", ""))
}

func expectNoConnection(t *testing.T, connString string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, connString); err == nil {
		conn.Close(ctx)
		t.Fatal("connected through a disabled backend")
	}
}

// reconnectWait bounds how long HAProxy may take to route to a restarted
// PostgreSQL; generous, since CI machines can be slow and busy.
const reconnectWait = 60 * time.Second

// connectEventually retries until HAProxy routes to PostgreSQL again.
func connectEventually(t *testing.T, connString string) {
	t.Helper()
	deadline := time.Now().Add(reconnectWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, connString)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection through haproxy within %s: %v", reconnectWait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// assertNotLeaked checks that user's password is in no log or state file.
func assertNotLeaked(t *testing.T, st *stack.State, user string) {
	t.Helper()
	pw, err := os.ReadFile(st.UserPasswordFile(user))
	if err != nil || len(bytes.TrimSpace(pw)) < 16 {
		t.Fatalf("password file of %s: %v (%d bytes)", user, err, len(pw))
	}
	for _, f := range []string{postgres.Of(st).LogFile, st.Dir + "/state.json", haproxy.Of(st).Config} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, bytes.TrimSpace(pw)) {
			t.Errorf("the password of %s is in %s", user, f)
		}
	}
	fi, err := os.Stat(st.UserPasswordFile(user))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v, want 0600", fi.Mode().Perm())
	}
}
