package vault_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/stack/vault"
	"github.com/authbench/authbench/stack/vault/vaulttest"
)

func TestVaultConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  vault.Settings
		want string
	}{
		{vault.Settings{}, ""},
		{vault.Settings{DefaultTTL: 10 * time.Second, MaxTTL: 20 * time.Second}, ""},
		{vault.Settings{DefaultTTL: time.Hour, MaxTTL: time.Minute}, "--vault-max-ttl"},
		{vault.Settings{TokenTTL: 2 * time.Hour, TokenMaxTTL: time.Hour}, "--vault-token-max-ttl"},
		{vault.Settings{DefaultTTL: time.Millisecond}, "at least 1s"},
	} {
		err := tc.cfg.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// Dynamic leases in TestVault must outlive a login through HAProxy (TLS and
// SCRAM) and a few queries on a slow, busy machine, yet expire soon enough
// for the expiry subtest to wait for the reaper.
const (
	vaultTestTTL    = 10 * time.Second
	vaultTestMaxTTL = 20 * time.Second
	// vaultExpiryWait bounds how long the role may outlive its lease.
	vaultExpiryWait = 60 * time.Second
)

func TestVault(t *testing.T) {
	vaulttest.Servers(t, func(t *testing.T, srv vaulttest.Server) {
		cfg := vault.Settings{Server: srv.Server, DefaultTTL: vaultTestTTL, MaxTTL: vaultTestMaxTTL, StaticRotation: time.Hour}
		st := stacktest.Start(t, func(c *stack.Config) { vault.Enable(c, cfg) })
		t.Run("files and env", func(t *testing.T) { testVaultFilesAndEnv(t, st) })
		t.Run("pg_hba", func(t *testing.T) { testVaultHBA(t, st) })
		t.Run("approle and dynamic user", func(t *testing.T) { testVaultDynamic(t, st) })
		t.Run("static user", func(t *testing.T) { testVaultStatic(t, st) })
		t.Run("revoke drops the role", func(t *testing.T) { testVaultRevoke(t, st) })
		t.Run("expired leases are dropped", func(t *testing.T) { testVaultExpiry(t, st) })
		t.Run("stop revokes, up restarts", func(t *testing.T) { testVaultRestart(t, st, cfg) })
		t.Run("an old dotted root token is migrated", func(t *testing.T) { testVaultOldToken(t, st, cfg) })
		t.Run("a failed start says why", func(t *testing.T) { testVaultStartFailure(t, st, cfg) })
	})
}

func testVaultFilesAndEnv(t *testing.T, st *stack.State) {
	v := vault.Of(st)
	secrets := map[string]bool{}
	for _, f := range []string{v.TokenFile, v.RoleIDFile, v.SecretIDFile} {
		fi, err := os.Stat(f)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want a 0600 file", f, err, fi.Mode().Perm())
		}
		secrets[readTrim(t, f)] = true
	}
	env := map[string]string{}
	for _, e := range st.Env() {
		env[e.Name] = e.Value
		if secrets[e.Value] {
			t.Errorf("stack env exports a secret's value in %s", e.Name)
		}
	}
	want := map[string]string{
		"VAULT_ADDR": v.Addr, "AUTHBENCH_VAULT_TOKEN_FILE": v.TokenFile, "AUTHBENCH_VAULT_ROLE_ID_FILE": v.RoleIDFile,
		"AUTHBENCH_VAULT_SECRET_ID_FILE": v.SecretIDFile, "AUTHBENCH_VAULT_ROLE": vault.Role,
		"AUTHBENCH_VAULT_STATIC_ROLE": vault.StaticRole,
	}
	for k, w := range want {
		if env[k] != w {
			t.Errorf("%s=%q, want %q", k, env[k], w)
		}
	}
	state, _ := os.ReadFile(filepath.Join(st.Dir, "state.json"))
	log, _ := os.ReadFile(filepath.Join(st.Dir, "vault", "vault.log"))
	for s := range secrets {
		if strings.Contains(string(state), s) || strings.Contains(string(log), s) {
			t.Error("a vault secret is in state.json or vault.log")
		}
	}
	comps, err := stack.Status(st.Dir)
	if err != nil || !slices.ContainsFunc(comps, func(c stack.ComponentStatus) bool { return c.Name == "vault" && c.Running }) {
		t.Errorf("status %v (%v): want vault running", comps, err)
	}
}

// testVaultHBA checks that dynamic users get in through their group line,
// which comes before the final reject lines.
func testVaultHBA(t *testing.T, st *stack.State) {
	data, err := os.ReadFile(filepath.Join(stacktest.PGDataDir(st), "pg_hba.conf"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	group := slices.Index(lines, "hostssl all +"+vault.GroupRole+" 127.0.0.1/32 scram-sha-256")
	static := slices.Index(lines, "hostssl all "+vault.StaticUser+" 127.0.0.1/32 scram-sha-256")
	reject := slices.Index(lines, "host all all 0.0.0.0/0 reject")
	if group < 0 || static < 0 || reject < 0 || group > reject || static > reject || strings.Count(string(data), "+"+vault.GroupRole) != 1 {
		t.Errorf("pg_hba.conf lacks the vault lines before the reject (group %d, static %d, reject %d):\n%s", group, static, reject, data)
	}
}

func testVaultDynamic(t *testing.T, st *stack.State) {
	client := vaultClient(t, st, "")
	a, err := approle.NewAppRoleAuth(readTrim(t, vault.Of(st).RoleIDFile), &approle.SecretID{FromFile: vault.Of(st).SecretIDFile})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Auth().Login(context.Background(), a); err != nil {
		t.Fatalf("AppRole login with the stack's files: %v", err)
	}
	user, pw, _ := readCreds(t, client, vault.Mount+"/creds/"+vault.Role)
	conn := vaultConnect(t, st, user, pw)
	if got := vaultQuery(t, conn, "SELECT pg_has_role(current_user, '"+stack.RWRole+"', 'member')::text || pg_has_role(current_user, '"+vault.GroupRole+"', 'member')::text"); got != "truetrue" {
		t.Errorf("dynamic user %s: member of %s and %s: %s", user, stack.RWRole, vault.GroupRole, got)
	}
	if got := vaultQuery(t, conn, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"); got != "true" {
		t.Errorf("dynamic user's session is not TLS: %s", got)
	}
	// The server manages roles through the load balancer with TLS
	// verify-full, like Vault's database plugin.
	cc, err := vault.DBConnConfig(st)
	if err != nil || cc.Host != st.LBHost || int(cc.Port) != st.LBPort || cc.TLSConfig == nil || cc.TLSConfig.InsecureSkipVerify {
		t.Errorf("credential server's database connection: %v, host %s port %d, TLS %v", err, cc.Host, cc.Port, cc.TLSConfig != nil)
	}
	admin := stacktest.Admin(t, st)
	// The stand-in names itself; a real Vault logs in as vault_admin.
	if got := vaultQuery(t, admin, "SELECT count(*)::text FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE (a.application_name = 'authbench-vault' OR a.usename = 'vault_admin') AND s.ssl"); got == "0" {
		t.Error("no TLS session of the credential server in pg_stat_activity")
	}
}

func testVaultStatic(t *testing.T, st *stack.State) {
	client := vaultClient(t, st, readTrim(t, vault.Of(st).TokenFile))
	user, pw, _ := readCreds(t, client, vault.Mount+"/static-creds/"+vault.StaticRole)
	if user != vault.StaticUser {
		t.Fatalf("static role user %q", user)
	}
	conn := vaultConnect(t, st, user, pw)
	if got := vaultQuery(t, conn, "SELECT current_user::text"); got != user {
		t.Errorf("current_user %q", got)
	}
}

func testVaultRevoke(t *testing.T, st *stack.State) {
	client := vaultClient(t, st, readTrim(t, vault.Of(st).TokenFile))
	user, pw, lease := readCreds(t, client, vault.Mount+"/creds/"+vault.Role)
	conn := vaultConnect(t, st, user, pw)
	if err := client.Sys().Revoke(lease); err != nil {
		t.Fatal(err)
	}
	if n := countRoles(t, st, user); n != 0 {
		t.Errorf("role %s still exists after its lease was revoked", user)
	}
	var pgErr *pgconn.PgError
	_, err := conn.Exec(context.Background(), "SELECT 1")
	if err == nil || (errors.As(err, &pgErr) && pgErr.Code != "57P01") {
		t.Errorf("the revoked user's session was not terminated: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if c, err := pgx.Connect(ctx, vaultConnString(st, user, pw)); err == nil {
		c.Close(ctx)
		t.Error("the revoked user can still log in")
	}
}

func testVaultExpiry(t *testing.T, st *stack.State) {
	client := vaultClient(t, st, readTrim(t, vault.Of(st).TokenFile))
	user, _, _ := readCreds(t, client, vault.Mount+"/creds/"+vault.Role)
	// The lease is not renewed, so it ends after vaultTestTTL. One admin
	// connection serves every poll.
	admin := stacktest.Admin(t, st)
	deadline := time.Now().Add(vaultExpiryWait)
	for countRolesOn(t, admin, user) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("role %s outlived its unrenewed lease (ttl %s) by over %s", user, vaultTestTTL, vaultExpiryWait)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func testVaultRestart(t *testing.T, st *stack.State, vc vault.Settings) {
	client := vaultClient(t, st, readTrim(t, vault.Of(st).TokenFile))
	user, _, _ := readCreds(t, client, vault.Mount+"/creds/"+vault.Role)
	if err := st.StopBuiltin("vault"); err != nil {
		t.Fatal(err)
	}
	if n := countRoles(t, st, user); n != 0 {
		t.Errorf("stopping the credential server left role %s behind", user)
	}
	vaultUp(t, st, vc)
	if user, pw, _ := readCreds(t, client, vault.Mount+"/creds/"+vault.Role); user == "" || pw == "" {
		t.Error("no credentials after the restart")
	}
}

// testVaultOldToken: a state dir whose root token an older authbench wrote
// ("hvs.…", which Vault and OpenBao refuse as a custom id) comes up again
// with a new token, and the server takes it.
func testVaultOldToken(t *testing.T, st *stack.State, vc vault.Settings) {
	if err := st.StopBuiltin("vault"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vault.Of(st).TokenFile, []byte("hvs.OLDSTYLETOKEN0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vaultUp(t, st, vc)
	tok := readTrim(t, vault.Of(st).TokenFile)
	if strings.Contains(tok, ".") {
		t.Fatalf("root token still dotted after stack up")
	}
	readCreds(t, vaultClient(t, st, tok), vault.Mount+"/creds/"+vault.Role)
}

// testVaultStartFailure: a server that cannot start (its port taken) fails
// `stack up` with the server's own reason and no secret; then it starts.
func testVaultStartFailure(t *testing.T, st *stack.State, vc vault.Settings) {
	if err := st.StopBuiltin("vault"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(vault.Of(st).Port)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := stack.Config{Dir: st.Dir, Exe: st.Exe}
	vault.Enable(&cfg, vc)
	_, err = stack.Up(ctx, cfg, nil)
	ln.Close()
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("stack up with the vault port taken: %v; want the server's own reason", err)
	}
	for _, f := range []string{vault.Of(st).TokenFile, vault.Of(st).SecretIDFile} {
		if sec := readTrim(t, f); err != nil && strings.Contains(err.Error(), sec) {
			t.Errorf("the start failure names a secret")
		}
	}
	vaultUp(t, st, vc)
}

// vaultUp runs stack up again on st's dir with vc.
func vaultUp(t *testing.T, st *stack.State, vc vault.Settings) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := stack.Config{Dir: st.Dir, Exe: st.Exe}
	vault.Enable(&cfg, vc)
	if _, err := stack.Up(ctx, cfg, nil); err != nil {
		t.Fatalf("stack up again: %v", err)
	}
}

// vaultClient is an API client for the stack's server with token (may be "").
func vaultClient(t *testing.T, st *stack.State, token string) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = vault.Of(st).Addr
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

// readCreds reads credentials at path: username, password and lease ID.
func readCreds(t *testing.T, c *api.Client, path string) (user, password, lease string) {
	t.Helper()
	sec, err := c.Logical().Read(path)
	if err != nil || sec == nil {
		t.Fatalf("read %s: %v", path, err)
	}
	user, _ = sec.Data["username"].(string)
	password, _ = sec.Data["password"].(string)
	return user, password, sec.LeaseID
}

func vaultConnString(st *stack.State, user, password string) string {
	return stack.ConnString("host", st.LBHost, "port", strconv.Itoa(st.LBPort), "dbname", st.Database,
		"user", user, "password", password, "sslmode", "verify-full", "sslrootcert", st.CAFile, "connect_timeout", "10")
}

// vaultConnect logs in through HAProxy with TLS verify-full and SCRAM.
func vaultConnect(t *testing.T, st *stack.State, user, password string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, vaultConnString(st, user, password))
	if err != nil {
		t.Fatalf("log in as %s through haproxy: %v", user, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func vaultQuery(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	var v string
	if err := conn.QueryRow(context.Background(), sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// countRoles counts roles named user, asked as the admin.
func countRoles(t *testing.T, st *stack.State, user string) int {
	t.Helper()
	return countRolesOn(t, stacktest.Admin(t, st), user)
}

// countRolesOn counts roles named user on the admin connection admin.
func countRolesOn(t *testing.T, admin *pgx.Conn, user string) int {
	t.Helper()
	n, err := strconv.Atoi(vaultQuery(t, admin, "SELECT count(*)::text FROM pg_roles WHERE rolname = '"+strings.ReplaceAll(user, "'", "''")+"'"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}
