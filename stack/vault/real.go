package vault

// A real `vault` or `bao` in dev mode: configured through its API here,
// run under `authbench stack serve-vault` by supervise.go. The tests run it
// when bao is on PATH (`make openbao`; CI requires it).

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

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
	return Builtin
}

// server is the credential server these settings pick: Server, else
// vault or bao from PATH, else the stand-in.
func (c Settings) server() string {
	if c.Server != "" {
		return c.Server
	}
	return findVault()
}

// startReal runs `vault|bao server -dev` on the component's port under
// `authbench stack serve-vault` (see supervise), then configures it through
// its API.
func startReal(ctx context.Context, st *stack.State, log io.Writer) error {
	if err := st.StartServer(ctx, Name, log); err != nil {
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

// appRolePolicies are the policies of an AppRole token: Vault adds
// "default" to the role's token_policies.
func appRolePolicies() []string { return []string{AppRole, "default"} }

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
		"token_policies": []string{AppRole},
		"token_ttl":      int(v.Settings.TokenTTL.Seconds()), "token_max_ttl": int(v.Settings.TokenMaxTTL.Seconds()),
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

// revokeRealLeases revokes every lease under the mount's creds. OpenBao
// revokes a prefix asynchronously, so it then waits (at most
// revokePrefixWait) until sys/leases/lookup lists none.
func revokeRealLeases(st *stack.State) error {
	client, err := RootClient(st)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), revokePrefixWait)
	defer cancel()
	prefix := Mount + "/creds/"
	if err := client.Sys().RevokePrefixWithContext(ctx, prefix); err != nil {
		return err
	}
	for deadline := time.Now().Add(revokePrefixWait); ; time.Sleep(200 * time.Millisecond) {
		left, err := client.Logical().ListWithContext(ctx, "sys/leases/lookup/"+prefix+Role+"/")
		if err != nil || left == nil || len(asSlice(left.Data["keys"])) == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d leases still open %s after revoking them", len(asSlice(left.Data["keys"])), revokePrefixWait)
		}
	}
}

// revokePrefixWait bounds the revocation of every lease when the server
// stops; within stack.StopTimeout, so that SIGKILL does not come first.
const revokePrefixWait = 15 * time.Second

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
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
