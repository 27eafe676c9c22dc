package stack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/stack/pki"
	"github.com/authbench/authbench/stack/vault/vaultsrv"
)

// The Vault component gives the stack a credential server on 127.0.0.1:
// `vault` or `bao` in dev mode when one is on PATH, configured through its
// API, otherwise the built-in stand-in (stack/vaultsrv) run as
// `authbench stack serve-vault`. Either way it serves the database secrets
// engine against the database through the load balancer: the dynamic role
// VaultRole (new LOGIN roles in RWRole and VaultGroupRole), the static role
// VaultStaticRole (VaultStaticUser's password, rotated) and the AppRole
// VaultAppRole. The root token, role_id and secret_id live in 0600 files
// in DIR/vault; state.json and `stack env` hold only their paths.

// Names the Vault component gives things.
const (
	// VaultMount is where the database secrets engine is mounted.
	VaultMount = "database"
	// VaultRole is the dynamic role: every read of its creds is a new user.
	VaultRole = "bench"
	// VaultStaticRole is the static role whose password the server rotates.
	VaultStaticRole = "bench-static"
	// VaultStaticUser is the database user behind VaultStaticRole.
	VaultStaticUser = "bench_static"
	// VaultAppRole is the AppRole whose role_id and secret_id the stack writes.
	VaultAppRole = "authbench"
	// VaultGroupRole is the NOLOGIN role every dynamic user is a member of;
	// its pg_hba line lets them in by SCRAM whatever their names.
	VaultGroupRole = "authbench_vault"
	// MethodVault marks users whose credentials come from Vault; the Vault
	// component writes their pg_hba lines.
	MethodVault = "vault"
	// vaultAdminUser is the password superuser a real Vault connects as.
	vaultAdminUser = "vault_admin"
	// vaultBuiltin is VaultState.Server for the built-in stand-in.
	vaultBuiltin = "builtin"
)

// Defaults of VaultConfig.
const (
	// DefaultVaultTTL is the dynamic role's default_ttl.
	DefaultVaultTTL = time.Minute
	// DefaultVaultMaxTTL is the dynamic role's max_ttl.
	DefaultVaultMaxTTL = 10 * time.Minute
	// DefaultVaultStaticRotation is the static role's rotation_period.
	DefaultVaultStaticRotation = time.Minute
)

// VaultConfig configures the stack's Vault component; zero fields take
// the defaults above.
type VaultConfig struct {
	// DefaultTTL is the lease TTL of new dynamic credentials.
	DefaultTTL time.Duration `json:"default_ttl"`
	// MaxTTL caps a lease's renewals.
	MaxTTL time.Duration `json:"max_ttl"`
	// StaticRotation is the static role's password rotation period.
	StaticRotation time.Duration `json:"static_rotation"`
}

// withDefaults fills in zero fields.
func (c VaultConfig) withDefaults() VaultConfig {
	if c.DefaultTTL <= 0 {
		c.DefaultTTL = DefaultVaultTTL
	}
	if c.MaxTTL <= 0 {
		c.MaxTTL = max(DefaultVaultMaxTTL, c.DefaultTTL)
	}
	if c.StaticRotation <= 0 {
		c.StaticRotation = DefaultVaultStaticRotation
	}
	return c
}

// Validate says what is wrong with the TTLs and how to fix it.
func (c VaultConfig) Validate() error {
	c = c.withDefaults()
	if c.DefaultTTL > c.MaxTTL {
		return fmt.Errorf("vault default TTL %s is longer than its max TTL %s: raise --vault-max-ttl or lower --vault-default-ttl", c.DefaultTTL, c.MaxTTL)
	}
	if c.DefaultTTL < time.Second || c.StaticRotation < time.Second {
		return fmt.Errorf("vault TTLs and the static rotation period must be at least 1s")
	}
	return nil
}

// VaultState is the persisted state of the stack's Vault component.
type VaultState struct {
	// Server is "builtin" or the path of the vault or bao binary.
	Server string `json:"server"`
	// Port is the API's port on 127.0.0.1; Addr is its URL.
	Port int    `json:"port"`
	Addr string `json:"addr"`
	// Settings are the TTLs asked for; Running those the server runs with.
	Settings VaultConfig  `json:"settings"`
	Running  *VaultConfig `json:"running,omitempty"`
	// TokenFile, RoleIDFile and SecretIDFile hold the root token and the
	// AppRole's credentials (0600).
	TokenFile    string `json:"token_file"`
	RoleIDFile   string `json:"role_id_file"`
	SecretIDFile string `json:"secret_id_file"`
}

// vaultComponent runs the stack's credential server.
type vaultComponent struct{}

func (vaultComponent) name() string { return "vault" }

// merge enables the component when cfg asks for it and, whenever it is
// enabled, adds the static user and the pg_hba lines for Vault's users
// (Up resets ExtraHBA to cfg's on every run).
func (vaultComponent) merge(cfg Config, s *State) {
	if cfg.Vault != nil {
		if s.Vault == nil {
			s.Vault = &VaultState{}
		}
		s.Vault.Settings = cfg.Vault.withDefaults()
	}
	v := s.Vault
	if v == nil {
		return
	}
	dir := s.builtinDir("vault")
	v.TokenFile, v.RoleIDFile, v.SecretIDFile = filepath.Join(dir, "root-token"), filepath.Join(dir, "role-id"), filepath.Join(dir, "secret-id")
	if v.Port == 0 {
		v.Port, _ = FreePort() // 0 on failure: prepare reports it
	}
	v.Addr = "http://" + hostPort("127.0.0.1", v.Port)
	if !alive(s.builtinPID("vault")) {
		v.Server = findVault()
	}
	s.addUser(User{Name: VaultStaticUser, Method: MethodVault})
	if v.Server != vaultBuiltin {
		s.addUser(User{Name: vaultAdminUser, Method: MethodPassword})
	}
	s.ExtraHBA = appendNew(s.ExtraHBA, vaultHBA()...)
}

// vaultHBA are the pg_hba lines of Vault's users: SCRAM for the static
// user, and for every member of VaultGroupRole (the dynamic users, whose
// names nobody knows in advance; "+role" matches members of role).
func vaultHBA() []string {
	return []string{
		hbaLine(VaultStaticUser, "127.0.0.1/32", "scram-sha-256"),
		"hostssl all +" + VaultGroupRole + " 127.0.0.1/32 scram-sha-256",
	}
}

// findVault returns the path of vault or bao on PATH, else "builtin".
func findVault() string {
	for _, name := range []string{"vault", "bao"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return vaultBuiltin
}

func (vaultComponent) enabled(s *State) bool { return s.Vault != nil }

// prepare checks the settings and writes the secret files that are missing.
func (vaultComponent) prepare(ctx context.Context, s *State, log io.Writer) error {
	if err := s.Vault.Settings.Validate(); err != nil {
		return err
	}
	if s.Vault.Port == 0 {
		return fmt.Errorf("vault: no free port on 127.0.0.1 for the credential server")
	}
	if err := os.MkdirAll(s.builtinDir("vault"), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", s.builtinDir("vault"), err)
	}
	for _, f := range []struct {
		path string
		gen  func() string
	}{{s.Vault.TokenFile, newRootToken}, {s.Vault.RoleIDFile, vaultsrv.NewUUID}, {s.Vault.SecretIDFile, vaultsrv.NewUUID}} {
		if _, err := readOrCreateSecret(f.path, f.gen); err != nil {
			return err
		}
	}
	return nil
}

// finish creates VaultGroupRole and starts the server (restarting it when
// its TTLs changed), then records what it runs with.
func (c vaultComponent) finish(ctx context.Context, s *State, log io.Writer) error {
	conn, err := s.connectAdmin(ctx, s.Database)
	if err != nil {
		return err
	}
	err = ensureRole(ctx, conn, VaultGroupRole, "NOLOGIN")
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	v := s.Vault
	if alive(s.builtinPID("vault")) && (v.Running == nil || *v.Running != v.Settings) {
		fmt.Fprintln(log, "vault: TTLs changed, restarting")
		if err := c.stop(s, log); err != nil {
			return err
		}
	}
	if v.Server == vaultBuiltin {
		err = s.startBuiltin(ctx, "vault", log)
	} else {
		err = s.startRealVault(ctx, log)
	}
	if err != nil {
		return err
	}
	running := v.Settings
	v.Running = &running
	fmt.Fprintf(log, "vault: %s serving %s (role %s, static role %s, AppRole %s)\n", c.serverName(s), v.Addr, VaultRole, VaultStaticRole, VaultAppRole)
	return s.save()
}

func (vaultComponent) serverName(s *State) string {
	if s.Vault.Server == vaultBuiltin {
		return "built-in credential server"
	}
	return filepath.Base(s.Vault.Server)
}

// stop stops the server. A real Vault loses its leases with its in-memory
// storage, so they are revoked first; the built-in server revokes its own
// on SIGTERM. Either way no dynamic role outlives the server.
func (vaultComponent) stop(s *State, log io.Writer) error {
	if s.Vault.Server != vaultBuiltin && alive(s.builtinPID("vault")) {
		if err := s.revokeRealVaultLeases(); err != nil {
			fmt.Fprintf(log, "vault: could not revoke its leases before stopping: %v\n", err)
		}
	}
	return s.stopBuiltin("vault", log)
}

func (c vaultComponent) status(s *State) []ComponentStatus {
	pid := s.builtinPID("vault")
	return []ComponentStatus{{Name: "vault", PID: pid, Address: s.Vault.Addr, Running: alive(pid)}}
}

// env names the server and the secret files, never a secret.
func (vaultComponent) env(s *State) []EnvVar {
	v := s.Vault
	return []EnvVar{
		{"VAULT_ADDR", v.Addr},
		{"AUTHBENCH_VAULT_TOKEN_FILE", v.TokenFile},
		{"AUTHBENCH_VAULT_ROLE_ID_FILE", v.RoleIDFile},
		{"AUTHBENCH_VAULT_SECRET_ID_FILE", v.SecretIDFile},
		{"AUTHBENCH_VAULT_ROLE", VaultRole},
		{"AUTHBENCH_VAULT_STATIC_ROLE", VaultStaticRole},
	}
}

// VaultDBConnConfig returns the connection the credential server manages
// roles with: AdminUser by client certificate, through the load balancer
// with TLS verify-full, as Vault's database plugin would connect.
func (s *State) VaultDBConnConfig() (*pgx.ConnConfig, error) {
	cfg, err := s.adminConnConfig(s.LBHost, s.LBPort, "authbench-vault")
	if err != nil {
		return nil, fmt.Errorf("vault database connection config: %w", err)
	}
	return cfg, nil
}

// VaultServerConfig returns the built-in credential server's configuration
// for this stack: the roles, the TTLs, the secrets read from their files and
// a DB through the load balancer. The caller closes the returned DB.
func (s *State) VaultServerConfig() (vaultsrv.Config, *vaultsrv.PostgresDB, error) {
	v := s.Vault
	if v == nil {
		return vaultsrv.Config{}, nil, fmt.Errorf("the stack in %s has no vault component: run `authbench stack up` without --without vault", s.Dir)
	}
	secrets, err := readSecrets(v.TokenFile, v.RoleIDFile, v.SecretIDFile)
	if err != nil {
		return vaultsrv.Config{}, nil, err
	}
	connCfg, err := s.VaultDBConnConfig()
	if err != nil {
		return vaultsrv.Config{}, nil, err
	}
	db := vaultsrv.NewPostgresDB(connCfg)
	set := v.Settings
	return vaultsrv.Config{
		Addr:      hostPort("127.0.0.1", v.Port),
		Mount:     VaultMount,
		RootToken: secrets[0],
		AppRole:   vaultsrv.AppRole{RoleName: VaultAppRole, RoleID: secrets[1], SecretID: secrets[2]},
		DynamicRoles: map[string]vaultsrv.DynamicRole{VaultRole: {
			DefaultTTL: set.DefaultTTL, MaxTTL: set.MaxTTL, GrantRoles: []string{RWRole, VaultGroupRole},
		}},
		StaticRoles: map[string]vaultsrv.StaticRole{VaultStaticRole: {
			Username: VaultStaticUser, RotationPeriod: set.StaticRotation,
		}},
		DB: db,
	}, db, nil
}

// readSecrets reads each file's trimmed content; an empty file is an error.
func readSecrets(paths ...string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %v (run `authbench stack up` to recreate it)", p, unwrapPathError(err))
		}
		if out[i] = strings.TrimSpace(string(data)); out[i] == "" {
			return nil, fmt.Errorf("%s is empty: remove it and run `authbench stack up`", p)
		}
	}
	return out, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readOrCreateSecret returns the file's content, writing gen()'s result to
// a new 0600 file first when there is none.
func readOrCreateSecret(path string, gen func() string) (string, error) {
	data, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(data)) != "" {
		return strings.TrimSpace(string(data)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	v := gen()
	if err := pki.WriteFileAtomic(path, []byte(v+"\n"), 0o600, nil); err != nil {
		return "", err
	}
	return v, nil
}

// newRootToken is a service-token-shaped random root token.
func newRootToken() string { return "hvs." + rand.Text() }

// ---- A real `vault` or `bao` in dev mode ----------------------------------
//
// Not exercised by the tests on machines without the binaries; see
// docs/vault.md for how to try it.

// startRealVault runs `vault|bao server -dev` on the component's port. The
// root token goes through the environment (VAULT_/BAO_DEV_ROOT_TOKEN_ID),
// not argv, and the banner that repeats it (stdout) is discarded; the
// server's log (stderr) goes to DIR/vault/vault.log. Then it configures the
// server through its API.
func (s *State) startRealVault(ctx context.Context, log io.Writer) error {
	v := s.Vault
	if pid := s.builtinPID("vault"); alive(pid) {
		fmt.Fprintf(log, "vault: already running (pid %d)\n", pid)
		return s.configureRealVault(ctx)
	}
	secrets, err := readSecrets(v.TokenFile)
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(s.builtinLog("vault"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open vault log: %w", err)
	}
	defer logf.Close()
	listen := hostPort("127.0.0.1", v.Port)
	cmd := command(context.WithoutCancel(ctx), nil, s.builtinDir("vault"), v.Server, "server", "-dev", "-dev-no-store-token")
	for _, prefix := range []string{"VAULT", "BAO"} {
		cmd.Env = append(cmd.Env, prefix+"_DEV_ROOT_TOKEN_ID="+secrets[0], prefix+"_DEV_LISTEN_ADDRESS="+listen)
	}
	cmd.Stdout, cmd.Stderr = nil, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", v.Server, err)
	}
	pid := cmd.Process.Pid
	go cmd.Wait()
	if err := os.WriteFile(s.builtinPIDFile("vault"), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write vault pid file: %w", err)
	}
	fmt.Fprintf(log, "vault: started %s -dev on %s (pid %d, log %s)\n", v.Server, listen, pid, s.builtinLog("vault"))
	if err := s.waitRealVault(ctx, pid); err != nil {
		return err
	}
	return s.configureRealVault(ctx)
}

// VaultRootClient returns an API client for the component's server with
// the root token.
func (s *State) VaultRootClient() (*api.Client, error) {
	if s.Vault == nil {
		return nil, fmt.Errorf("the stack in %s has no vault component", s.Dir)
	}
	secrets, err := readSecrets(s.Vault.TokenFile)
	if err != nil {
		return nil, err
	}
	cfg := api.DefaultConfig()
	cfg.Address = s.Vault.Addr
	cfg.Timeout = 30 * time.Second
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	client.SetToken(secrets[0])
	return client, nil
}

// realVaultReadyTimeout bounds how long a real Vault dev server may take to
// report itself unsealed; generous, since a busy machine must not fail
// `stack up`.
const realVaultReadyTimeout = 60 * time.Second

// waitRealVault waits until sys/health says the dev server is unsealed.
func (s *State) waitRealVault(ctx context.Context, pid int) error {
	client, err := s.VaultRootClient()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(realVaultReadyTimeout)
	for {
		h, err := client.Sys().HealthWithContext(ctx)
		if err == nil && h.Initialized && !h.Sealed {
			return nil
		}
		if !alive(pid) {
			return fmt.Errorf("vault exited at start: %s (see %s)", fileTail(s.builtinLog("vault")), s.builtinLog("vault"))
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped waiting for vault to become ready: %w (see %s)", err, s.builtinLog("vault"))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("vault did not become ready in %s (see %s)", realVaultReadyTimeout, s.builtinLog("vault"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// configureRealVault sets up what the built-in server has built in: the
// database secrets engine against the database through the load balancer
// (verify-full, as vault_admin with a password), the dynamic and static
// roles, a policy and the AppRole with the stack's role_id and secret_id.
// Every step is idempotent, so a running server can be configured again.
func (s *State) configureRealVault(ctx context.Context) error {
	client, err := s.VaultRootClient()
	if err != nil {
		return err
	}
	if err := s.ExecAdmin(ctx, "ALTER ROLE "+ident(vaultAdminUser)+" SUPERUSER"); err != nil {
		return err
	}
	steps := []struct {
		what string
		run  func() error
	}{
		{"enable the database secrets engine", func() error {
			return ignoreInUse(client.Sys().MountWithContext(ctx, VaultMount, &api.MountInput{Type: "database"}))
		}},
		{"configure the database connection", func() error { return s.writeVaultDBConfig(ctx, client) }},
		{"write the dynamic role", func() error { return writeVault(ctx, client, VaultMount+"/roles/"+VaultRole, s.vaultDynamicRole()) }},
		{"write the static role", func() error {
			return writeVault(ctx, client, VaultMount+"/static-roles/"+VaultStaticRole, map[string]any{
				"db_name": Database, "username": VaultStaticUser, "rotation_period": int(s.Vault.Settings.StaticRotation.Seconds()),
			})
		}},
		{"write the authbench policy", func() error { return client.Sys().PutPolicyWithContext(ctx, VaultAppRole, vaultPolicy()) }},
		{"enable AppRole", func() error {
			return ignoreInUse(client.Sys().EnableAuthWithOptionsWithContext(ctx, "approle", &api.EnableAuthOptions{Type: "approle"}))
		}},
		{"write the AppRole", func() error { return s.writeVaultAppRole(ctx, client) }},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			return fmt.Errorf("vault: %s: %s (see %s)", st.what, vaultErrLine(err), s.builtinLog("vault"))
		}
	}
	return nil
}

// writeVaultDBConfig points the postgresql-database-plugin at the load
// balancer. The password is Vault's to template into the URL.
func (s *State) writeVaultDBConfig(ctx context.Context, client *api.Client) error {
	pw, err := readSecrets(s.UserPasswordFile(vaultAdminUser))
	if err != nil {
		return err
	}
	url := fmt.Sprintf("postgresql://{{username}}:{{password}}@%s:%d/%s?sslmode=verify-full&sslrootcert=%s",
		s.LBHost, s.LBPort, s.Database, s.CAFile)
	return writeVault(ctx, client, VaultMount+"/config/"+Database, map[string]any{
		"plugin_name":             "postgresql-database-plugin",
		"connection_url":          url,
		"username":                vaultAdminUser,
		"password":                pw[0],
		"allowed_roles":           []string{VaultRole, VaultStaticRole},
		"password_authentication": "scram-sha-256",
		"verify_connection":       true,
	})
}

// vaultDynamicRole makes users in RWRole and VaultGroupRole, valid until
// the lease expires, and on revocation ends their sessions and drops them.
func (s *State) vaultDynamicRole() map[string]any {
	set := s.Vault.Settings
	return map[string]any{
		"db_name": Database,
		"creation_statements": []string{fmt.Sprintf(
			`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE %s, %s;`,
			ident(RWRole), ident(VaultGroupRole))},
		"revocation_statements": []string{
			`ALTER ROLE "{{name}}" NOLOGIN;`,
			`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}';`,
			fmt.Sprintf(`REASSIGN OWNED BY "{{name}}" TO %s;`, ident(s.AdminUser)),
			`DROP OWNED BY "{{name}}";`,
			`DROP ROLE IF EXISTS "{{name}}";`,
		},
		"default_ttl": int(set.DefaultTTL.Seconds()),
		"max_ttl":     int(set.MaxTTL.Seconds()),
	}
}

// vaultPolicy lets the AppRole read both roles' credentials and renew and
// revoke its leases.
func vaultPolicy() string {
	return fmt.Sprintf(`path "%[1]s/creds/%[2]s" { capabilities = ["read"] }
path "%[1]s/static-creds/%[3]s" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }
`, VaultMount, VaultRole, VaultStaticRole)
}

// writeVaultAppRole creates the AppRole and gives it the stack's role_id
// and secret_id (custom-secret-id); a secret_id already registered is fine.
func (s *State) writeVaultAppRole(ctx context.Context, client *api.Client) error {
	ids, err := readSecrets(s.Vault.RoleIDFile, s.Vault.SecretIDFile)
	if err != nil {
		return err
	}
	base := "auth/approle/role/" + VaultAppRole
	if err := writeVault(ctx, client, base, map[string]any{
		"token_policies": []string{VaultAppRole}, "token_ttl": "1h", "token_max_ttl": "24h",
	}); err != nil {
		return err
	}
	if err := writeVault(ctx, client, base+"/role-id", map[string]any{"role_id": ids[0]}); err != nil {
		return err
	}
	err = writeVault(ctx, client, base+"/custom-secret-id", map[string]any{"secret_id": ids[1]})
	if err != nil && strings.Contains(err.Error(), "already registered") {
		return nil
	}
	return err
}

// revokeRealVaultLeases revokes every lease under the mount's creds.
func (s *State) revokeRealVaultLeases() error {
	client, err := s.VaultRootClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return client.Sys().RevokePrefixWithContext(ctx, VaultMount+"/creds/")
}

func writeVault(ctx context.Context, client *api.Client, path string, data map[string]any) error {
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

// vaultErrLine is an API error's messages on one line.
func vaultErrLine(err error) string {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("HTTP %d: %s", re.StatusCode, strings.Join(strings.Fields(strings.Join(re.Errors, "; ")), " "))
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}
