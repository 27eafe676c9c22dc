package vault

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/vault/vaultsrv"
)

// The Vault component gives the stack a credential server on 127.0.0.1:
// `vault` or `bao` in dev mode when one is on PATH, supervised by
// `authbench stack serve-vault` (supervise.go) and configured through its
// API (real.go), otherwise the built-in stand-in (vaultsrv) run as
// `authbench stack serve-vault` (serve.go). Either way it serves the
// database secrets engine against the database through the load balancer:
// the dynamic role Role (new LOGIN roles in stack.RWRole and GroupRole),
// the static role StaticRole (StaticUser's password, rotated) and the
// AppRole AppRole. The root token, role_id and secret_id live in 0600 files
// in DIR/vault; state.json and `stack env` hold only their paths.

// Names the Vault component gives things.
const (
	// Name is the component's name (state.json, `--without vault`,
	// `stack serve-vault`, DIR/vault).
	Name = "vault"
	// Mount is where the database secrets engine is mounted.
	Mount = "database"
	// Role is the dynamic role: every read of its creds is a new user.
	Role = "bench"
	// StaticRole is the static role whose password the server rotates.
	StaticRole = "bench-static"
	// StaticUser is the database user behind StaticRole.
	StaticUser = "bench_static"
	// AppRole is the AppRole whose role_id and secret_id the stack writes.
	AppRole = "authbench"
	// GroupRole is the NOLOGIN role every dynamic user is a member of;
	// its pg_hba line lets them in by SCRAM whatever their names.
	GroupRole = "authbench_vault"
	// MethodVault marks users whose credentials come from Vault; the Vault
	// component writes their pg_hba lines.
	MethodVault = "vault"
	// Builtin is State.Server (and Settings.Server) for the built-in
	// stand-in.
	Builtin = "builtin"
)

// Defaults of Settings.
const (
	// DefaultTTL is the dynamic role's default_ttl.
	DefaultTTL = time.Minute
	// DefaultMaxTTL is the dynamic role's max_ttl.
	DefaultMaxTTL = 10 * time.Minute
	// DefaultStaticRotation is the static role's rotation_period.
	DefaultStaticRotation = time.Minute
	// DefaultTokenTTL is the AppRole's token_ttl.
	DefaultTokenTTL = time.Hour
	// DefaultTokenMaxTTL is the AppRole's token_max_ttl.
	DefaultTokenMaxTTL = 24 * time.Hour
)

func init() { stack.Register(30, component{}) }

// Settings configure the stack's Vault component; zero fields take the
// defaults above.
type Settings struct {
	// DefaultTTL is the lease TTL of new dynamic credentials.
	DefaultTTL time.Duration `json:"default_ttl"`
	// MaxTTL caps a lease's renewals.
	MaxTTL time.Duration `json:"max_ttl"`
	// StaticRotation is the static role's password rotation period.
	StaticRotation time.Duration `json:"static_rotation"`
	// TokenTTL is the TTL of the AppRole's tokens.
	TokenTTL time.Duration `json:"token_ttl,omitempty"`
	// TokenMaxTTL caps the renewals of the AppRole's tokens.
	TokenMaxTTL time.Duration `json:"token_max_ttl,omitempty"`
	// Server pins the credential server: Builtin for the stand-in or the
	// path of a vault or bao binary; "" picks vault or bao from PATH, else
	// the stand-in (the stand-in when Config.PreferBuiltin). A pin stays
	// until another pin replaces it.
	Server string `json:"server,omitempty"`
}

// Enable asks cfg's Up for Vault with settings s.
func Enable(cfg *stack.Config, s Settings) { cfg.Enable(Name, s) }

// withDefaults fills in zero fields.
func (c Settings) withDefaults() Settings {
	if c.DefaultTTL <= 0 {
		c.DefaultTTL = DefaultTTL
	}
	if c.MaxTTL <= 0 {
		c.MaxTTL = max(DefaultMaxTTL, c.DefaultTTL)
	}
	if c.StaticRotation <= 0 {
		c.StaticRotation = DefaultStaticRotation
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.TokenMaxTTL <= 0 {
		c.TokenMaxTTL = max(DefaultTokenMaxTTL, c.TokenTTL)
	}
	return c
}

// Validate says what is wrong with the TTLs and how to fix it.
func (c Settings) Validate() error {
	c = c.withDefaults()
	if c.DefaultTTL > c.MaxTTL {
		return fmt.Errorf("vault default TTL %s is longer than its max TTL %s: raise --vault-max-ttl or lower --vault-default-ttl", c.DefaultTTL, c.MaxTTL)
	}
	if c.TokenTTL > c.TokenMaxTTL {
		return fmt.Errorf("vault token TTL %s is longer than its max TTL %s: raise --vault-token-max-ttl or lower --vault-token-ttl", c.TokenTTL, c.TokenMaxTTL)
	}
	if c.DefaultTTL < time.Second || c.StaticRotation < time.Second || c.TokenTTL < time.Second {
		return fmt.Errorf("vault TTLs and the static rotation period must be at least 1s")
	}
	return nil
}

// State is the persisted state of the stack's Vault component.
type State struct {
	// Server is "builtin" or the path of the vault or bao binary.
	Server string `json:"server"`
	// Port is the API's port on 127.0.0.1; Addr is its URL.
	Port int    `json:"port"`
	Addr string `json:"addr"`
	// Settings are the TTLs asked for; Running those the server runs with.
	Settings Settings  `json:"settings"`
	Running  *Settings `json:"running,omitempty"`
	// TokenFile, RoleIDFile and SecretIDFile hold the root token and the
	// AppRole's credentials (0600).
	TokenFile    string `json:"token_file"`
	RoleIDFile   string `json:"role_id_file"`
	SecretIDFile string `json:"secret_id_file"`
}

// Of returns the component's state in st, nil when the stack has none.
func Of(st *stack.State) *State { return stack.Section[State](st, Name) }

// of is Of, or the ErrComponentOff error when the stack has no Vault.
func of(st *stack.State) (*State, error) {
	if v := Of(st); v != nil {
		return v, nil
	}
	return nil, &stack.StackError{Dir: st.Dir, Component: Name, Err: stack.ErrComponentOff}
}

type component struct{}

func (component) Name() string { return Name }

// DefaultOn: `stack up` runs Vault unless `--without vault`.
func (component) DefaultOn() bool { return true }

// AddFlags registers the --vault-* flags of `stack up`.
func (component) AddFlags(fs *pflag.FlagSet) func() (any, error) {
	var c Settings
	fs.DurationVar(&c.DefaultTTL, "vault-default-ttl", DefaultTTL, "lease TTL of the dynamic database credentials Vault issues (role "+Role+")")
	fs.DurationVar(&c.MaxTTL, "vault-max-ttl", DefaultMaxTTL, "longest a dynamic credential's lease can be renewed to")
	fs.DurationVar(&c.StaticRotation, "vault-static-rotation", DefaultStaticRotation, "how often Vault rotates the password of the static role "+StaticRole)
	fs.DurationVar(&c.TokenTTL, "vault-token-ttl", DefaultTokenTTL, "TTL of the tokens an AppRole login (role "+AppRole+") gets")
	fs.DurationVar(&c.TokenMaxTTL, "vault-token-max-ttl", DefaultTokenMaxTTL, "longest an AppRole token can be renewed to; the vault auth mode logs in again after it")
	return func() (any, error) {
		if err := c.Validate(); err != nil {
			return nil, err
		}
		return c, nil
	}
}

// Merge enables the component when cfg asks for it and, whenever it is
// enabled, adds the static user and the pg_hba lines for Vault's users
// (Up resets the extra pg_hba lines to cfg's on every run).
func (component) Merge(cfg stack.Config, st *stack.State) {
	if s, ok := cfg.Settings(Name); ok {
		set := s.(Settings).withDefaults()
		if Of(st) == nil {
			stack.SetSection(st, Name, &State{})
		} else if set.Server == "" {
			set.Server = Of(st).Settings.Server // a pin stays
		}
		if set.Server == "" && cfg.PreferBuiltin {
			set.Server = Builtin
		}
		Of(st).Settings = set
	}
	v := Of(st)
	if v == nil {
		return
	}
	dir := st.ComponentDir(Name)
	v.TokenFile, v.RoleIDFile, v.SecretIDFile = filepath.Join(dir, "root-token"), filepath.Join(dir, "role-id"), filepath.Join(dir, "secret-id")
	if v.Port == 0 {
		v.Port, _ = stack.FreePort() // 0 on failure: Prepare reports it
	}
	v.Addr = "http://" + stack.HostPort("127.0.0.1", v.Port)
	if !st.Running(Name) {
		v.Server = v.Settings.server()
	}
	st.AddUser(stack.User{Name: StaticUser, Method: MethodVault})
	if v.Server != Builtin {
		st.AddUser(stack.User{Name: realAdminUser, Method: stack.MethodPassword})
	}
	st.AddHBA(
		stack.HBALine(StaticUser, "127.0.0.1/32", "scram-sha-256"),
		// "+role" matches the members of role: the dynamic users, whose
		// names nobody knows in advance.
		"hostssl all +"+GroupRole+" 127.0.0.1/32 scram-sha-256",
	)
}

func (component) Enabled(st *stack.State) bool { return Of(st) != nil }

// Prepare checks the settings and writes the secret files that are missing
// (replacing a root token of an older authbench first).
func (c component) Prepare(ctx context.Context, st *stack.State, log io.Writer) error {
	v := Of(st)
	if err := v.Settings.Validate(); err != nil {
		return err
	}
	if v.Port == 0 {
		return fmt.Errorf("vault: no free port on 127.0.0.1 for the credential server")
	}
	if err := os.MkdirAll(st.ComponentDir(Name), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", st.ComponentDir(Name), err)
	}
	if err := c.migrateRootToken(st, log); err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		gen  func() string
	}{{v.TokenFile, newRootToken}, {v.RoleIDFile, vaultsrv.NewUUID}, {v.SecretIDFile, vaultsrv.NewUUID}} {
		if _, err := readOrCreateSecret(f.path, f.gen); err != nil {
			return err
		}
	}
	return nil
}

// Finish creates GroupRole and starts the server (restarting it when its
// settings changed), then records what it runs with.
func (c component) Finish(ctx context.Context, st *stack.State, log io.Writer) error {
	if err := st.EnsureRole(ctx, GroupRole, "NOLOGIN"); err != nil {
		return err
	}
	v := Of(st)
	if st.Running(Name) && (v.Running == nil || *v.Running != v.Settings) {
		fmt.Fprintln(log, "vault: settings changed, restarting")
		if err := c.Stop(st, log); err != nil {
			return err
		}
		v.Server = v.Settings.server()
	}
	var err error
	if v.Server == Builtin {
		err = st.StartServer(ctx, Name, log)
	} else {
		err = startReal(ctx, st, log)
	}
	if err != nil {
		return err
	}
	running := v.Settings
	v.Running = &running
	fmt.Fprintf(log, "vault: %s serving %s (role %s, static role %s, AppRole %s)\n", v.serverName(), v.Addr, Role, StaticRole, AppRole)
	return st.Save()
}

func (v *State) serverName() string {
	if v.Server == Builtin {
		return "built-in credential server"
	}
	return filepath.Base(v.Server)
}

// Stop stops the server. A real Vault loses its leases with its in-memory
// storage, so its supervisor (supervise.go) revokes them first; the
// built-in server revokes its own on SIGTERM. Either way no dynamic role
// outlives the server.
func (component) Stop(st *stack.State, log io.Writer) error {
	return st.StopServer(Name, log)
}

func (component) Status(st *stack.State) []stack.ComponentStatus {
	return []stack.ComponentStatus{{Name: Name, PID: st.PID(Name), Address: Of(st).Addr, Running: st.Running(Name)}}
}

// Env names the server and the secret files, never a secret.
func (component) Env(st *stack.State) []stack.EnvVar {
	v := Of(st)
	return []stack.EnvVar{
		{Name: "VAULT_ADDR", Value: v.Addr},
		{Name: "AUTHBENCH_VAULT_TOKEN_FILE", Value: v.TokenFile},
		{Name: "AUTHBENCH_VAULT_ROLE_ID_FILE", Value: v.RoleIDFile},
		{Name: "AUTHBENCH_VAULT_SECRET_ID_FILE", Value: v.SecretIDFile},
		{Name: "AUTHBENCH_VAULT_ROLE", Value: Role},
		{Name: "AUTHBENCH_VAULT_STATIC_ROLE", Value: StaticRole},
	}
}
