package vault

// A real `vault` or `bao` in dev mode: everything about it is in this file.
// Not exercised by the tests on machines without the binaries; see
// docs/vault.md for how to try it.

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/internal/proc"
	"github.com/authbench/authbench/stack"
)

// realAdminUser is the password superuser a real Vault connects as.
const realAdminUser = "vault_admin"

// findVault returns the path of vault or bao on PATH, else "builtin".
func findVault() string {
	for _, name := range []string{"vault", "bao"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return builtin
}

// startReal runs `vault|bao server -dev` on the component's port. The root
// token goes through the environment (VAULT_/BAO_DEV_ROOT_TOKEN_ID), not
// argv, and the banner that repeats it (stdout) is discarded; the server's
// log (stderr) goes to DIR/vault/vault.log. Then it configures the server
// through its API.
func startReal(ctx context.Context, st *stack.State, log io.Writer) error {
	v := Of(st)
	if pid := st.PID(Name); proc.Alive(pid) {
		fmt.Fprintf(log, "vault: already running (pid %d)\n", pid)
		return configureReal(ctx, st)
	}
	secrets, err := readSecrets(st, v.TokenFile)
	if err != nil {
		return err
	}
	listen := stack.HostPort("127.0.0.1", v.Port)
	cmd := proc.Command(context.WithoutCancel(ctx), nil, st.ComponentDir(Name), v.Server, "server", "-dev", "-dev-no-store-token")
	for _, prefix := range []string{"VAULT", "BAO"} {
		cmd.Env = append(cmd.Env, prefix+"_DEV_ROOT_TOKEN_ID="+secrets[0], prefix+"_DEV_LISTEN_ADDRESS="+listen)
	}
	started, err := proc.Start(proc.Spec{Name: Name, Cmd: cmd, LogFile: st.LogFile(Name), DiscardStdout: true, PIDFile: st.PIDFile(Name)})
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "vault: started %s -dev on %s (pid %d, log %s)\n", v.Server, listen, started.PID, st.LogFile(Name))
	client, err := RootClient(st)
	if err != nil {
		return err
	}
	// Ready once sys/health says the dev server is unsealed.
	if err := proc.WaitReady(ctx, proc.Ready{
		Name: Name, PID: started.PID, LogFile: st.LogFile(Name), LogOffset: started.LogOffset,
		Timeout: stack.ReadyTimeout, Every: 200 * time.Millisecond,
		Probe: func(string) bool {
			h, err := client.Sys().HealthWithContext(ctx)
			return err == nil && h.Initialized && !h.Sealed
		},
	}); err != nil {
		return err
	}
	return configureReal(ctx, st)
}

// RootClient returns an API client for the component's server with the
// root token.
func RootClient(st *stack.State) (*api.Client, error) {
	v, err := of(st)
	if err != nil {
		return nil, err
	}
	secrets, err := readSecrets(st, v.TokenFile)
	if err != nil {
		return nil, err
	}
	cfg := api.DefaultConfig()
	cfg.Address = v.Addr
	cfg.Timeout = 30 * time.Second
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	client.SetToken(secrets[0])
	return client, nil
}

// configureReal sets up what the built-in server has built in: the
// database secrets engine against the database through the load balancer
// (verify-full, as vault_admin with a password), the dynamic and static
// roles, a policy and the AppRole with the stack's role_id and secret_id.
// Every step is idempotent, so a running server can be configured again.
func configureReal(ctx context.Context, st *stack.State) error {
	client, err := RootClient(st)
	if err != nil {
		return err
	}
	if err := st.ExecAdmin(ctx, "ALTER ROLE "+ident(realAdminUser)+" SUPERUSER"); err != nil {
		return err
	}
	steps := []struct {
		what string
		run  func() error
	}{
		{"enable the database secrets engine", func() error {
			return ignoreInUse(client.Sys().MountWithContext(ctx, Mount, &api.MountInput{Type: "database"}))
		}},
		{"configure the database connection", func() error { return writeDBConfig(ctx, st, client) }},
		{"write the dynamic role", func() error { return write(ctx, client, Mount+"/roles/"+Role, dynamicRole(st)) }},
		{"write the static role", func() error {
			return write(ctx, client, Mount+"/static-roles/"+StaticRole, map[string]any{
				"db_name": stack.Database, "username": StaticUser, "rotation_period": int(Of(st).Settings.StaticRotation.Seconds()),
			})
		}},
		{"write the authbench policy", func() error { return client.Sys().PutPolicyWithContext(ctx, AppRole, policy()) }},
		{"enable AppRole", func() error {
			return ignoreInUse(client.Sys().EnableAuthWithOptionsWithContext(ctx, "approle", &api.EnableAuthOptions{Type: "approle"}))
		}},
		{"write the AppRole", func() error { return writeAppRole(ctx, st, client) }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return fmt.Errorf("vault: %s (see %s): %w", s.what, st.LogFile(Name), err)
		}
	}
	return nil
}

// writeDBConfig points the postgresql-database-plugin at the load
// balancer. The password is Vault's to template into the URL.
func writeDBConfig(ctx context.Context, st *stack.State, client *api.Client) error {
	pw, err := readSecrets(st, st.UserPasswordFile(realAdminUser))
	if err != nil {
		return err
	}
	url := fmt.Sprintf("postgresql://{{username}}:{{password}}@%s:%d/%s?sslmode=verify-full&sslrootcert=%s",
		st.LBHost, st.LBPort, st.Database, st.CAFile)
	return write(ctx, client, Mount+"/config/"+stack.Database, map[string]any{
		"plugin_name":             "postgresql-database-plugin",
		"connection_url":          url,
		"username":                realAdminUser,
		"password":                pw[0],
		"allowed_roles":           []string{Role, StaticRole},
		"password_authentication": "scram-sha-256",
		"verify_connection":       true,
	})
}

// dynamicRole makes users in RWRole and GroupRole, valid until the lease
// expires, and on revocation ends their sessions and drops them.
func dynamicRole(st *stack.State) map[string]any {
	set := Of(st).Settings
	return map[string]any{
		"db_name": stack.Database,
		"creation_statements": []string{fmt.Sprintf(
			`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE %s, %s;`,
			ident(stack.RWRole), ident(GroupRole))},
		"revocation_statements": []string{
			`ALTER ROLE "{{name}}" NOLOGIN;`,
			`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}';`,
			fmt.Sprintf(`REASSIGN OWNED BY "{{name}}" TO %s;`, ident(st.AdminUser)),
			`DROP OWNED BY "{{name}}";`,
			`DROP ROLE IF EXISTS "{{name}}";`,
		},
		"default_ttl": int(set.DefaultTTL.Seconds()),
		"max_ttl":     int(set.MaxTTL.Seconds()),
	}
}

// policy lets the AppRole read both roles' credentials and renew and
// revoke its leases.
func policy() string {
	return fmt.Sprintf(`path "%[1]s/creds/%[2]s" { capabilities = ["read"] }
path "%[1]s/static-creds/%[3]s" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }
`, Mount, Role, StaticRole)
}

// writeAppRole creates the AppRole and gives it the stack's role_id and
// secret_id (custom-secret-id); a secret_id already registered is fine.
func writeAppRole(ctx context.Context, st *stack.State, client *api.Client) error {
	v := Of(st)
	ids, err := readSecrets(st, v.RoleIDFile, v.SecretIDFile)
	if err != nil {
		return err
	}
	base := "auth/approle/role/" + AppRole
	if err := write(ctx, client, base, map[string]any{
		"token_policies": []string{AppRole}, "token_ttl": "1h", "token_max_ttl": "24h",
	}); err != nil {
		return err
	}
	if err := write(ctx, client, base+"/role-id", map[string]any{"role_id": ids[0]}); err != nil {
		return err
	}
	err = write(ctx, client, base+"/custom-secret-id", map[string]any{"secret_id": ids[1]})
	if err != nil && strings.Contains(err.Error(), "already registered") {
		return nil
	}
	return err
}

// revokeRealLeases revokes every lease under the mount's creds.
func revokeRealLeases(st *stack.State) error {
	client, err := RootClient(st)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return client.Sys().RevokePrefixWithContext(ctx, Mount+"/creds/")
}

func write(ctx context.Context, client *api.Client, path string, data map[string]any) error {
	_, err := client.Logical().WriteWithContext(ctx, path, data)
	return err
}

// ignoreInUse treats "path is already in use" (a mount made earlier) as done.
func ignoreInUse(err error) error {
	if err != nil && strings.Contains(err.Error(), "already in use") {
		return nil
	}
	return err
}

// ident quotes a SQL identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
