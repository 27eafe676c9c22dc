package vault

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/authmodes/authmodestest"
	"github.com/authbench/authbench/stack/vault/vaultsrv"
	"github.com/authbench/authbench/stack/vault/vaultsrv/vaultsrvtest"
)

// Secrets the tests plant; none may appear in any output.
const (
	testToken    = "planted-root-token-0123456789"
	testRoleID   = "planted-role-id-4d1c"
	testSecretID = "planted-secret-id-77e0"
	staticUser   = "app_static"
)

// testServer is the built-in credential server on 127.0.0.1.
type testServer struct {
	srv  *vaultsrv.Server
	db   *vaultsrvtest.DB
	addr string
}

// startServer runs the stand-in with a dynamic role "bench" (ttl, max),
// a static role "bench-static" rotated every rotation, and the AppRole;
// mutate may change the rest of its Config.
func startServer(t *testing.T, ttl, maxTTL, rotation time.Duration, mutate ...func(*vaultsrv.Config)) *testServer {
	t.Helper()
	db := vaultsrvtest.NewDB(staticUser)
	cfg := vaultsrv.Config{
		RootToken:    testToken,
		AppRole:      vaultsrv.AppRole{RoleName: "authbench", RoleID: testRoleID, SecretID: testSecretID},
		DynamicRoles: map[string]vaultsrv.DynamicRole{"bench": {DefaultTTL: ttl, MaxTTL: maxTTL}},
		StaticRoles:  map[string]vaultsrv.StaticRole{"bench-static": {Username: staticUser, RotationPeriod: rotation}},
		DB:           db, ReapInterval: 20 * time.Millisecond, StaticQueueTick: 20 * time.Millisecond,
	}
	for _, f := range mutate {
		f(&cfg)
	}
	srv, err := vaultsrv.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{srv: srv, db: db, addr: vaultsrvtest.Serve(t, srv).URL}
}

// writeFile writes a secret file in dir.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := dir + "/" + name
	if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newTestMode parses args into a fresh mode, as `authbench run` would.
func newTestMode(t *testing.T, args ...string) *mode {
	t.Helper()
	for _, v := range []string{"VAULT_ADDR", "VAULT_TOKEN", "AUTHBENCH_VAULT_AUTH", "AUTHBENCH_VAULT_TOKEN_FILE",
		"AUTHBENCH_VAULT_ROLE_ID_FILE", "AUTHBENCH_VAULT_SECRET_ID_FILE", "AUTHBENCH_VAULT_ROLE"} {
		t.Setenv(v, "")
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	m := newMode(fs).(*mode)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return m
}

// configure runs Configure on a pool config that never connects and closes
// the mode when the test ends.
func configure(t *testing.T, m *mode, rec *authmodestest.Recorder) (*pgxpool.Config, error) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig("postgres://placeholder@127.0.0.1:1/db?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = m.Configure(ctx, cfg, authmodes.Env{Events: rec, Phases: rec})
	t.Cleanup(func() { m.Close() })
	return cfg, err
}

// credentials runs the pool's BeforeConnect, as a new connection would.
func credentials(t *testing.T, cfg *pgxpool.Config) (user, password string) {
	t.Helper()
	cc := cfg.ConnConfig.Copy()
	if err := cfg.BeforeConnect(context.Background(), cc); err != nil {
		t.Fatalf("BeforeConnect: %v", err)
	}
	return cc.User, cc.Password
}

// connConfig runs BeforeConnect and returns the connection's config.
func connConfig(t *testing.T, cfg *pgxpool.Config) *pgx.ConnConfig {
	t.Helper()
	cc := cfg.ConnConfig.Copy()
	if err := cfg.BeforeConnect(context.Background(), cc); err != nil {
		t.Fatalf("BeforeConnect: %v", err)
	}
	return cc
}

// configured makes a mode of args and configures a pool with it, its
// events going to the returned recorder.
func configured(t *testing.T, args ...string) (*mode, *authmodestest.Recorder, *pgxpool.Config) {
	t.Helper()
	rec := &authmodestest.Recorder{}
	m := newTestMode(t, args...)
	cfg, err := configure(t, m, rec)
	if err != nil {
		t.Fatal(err)
	}
	return m, rec, cfg
}
