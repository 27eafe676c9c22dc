package vaultsrv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// DB is what the server needs from the database: it creates and drops real
// login roles and changes their passwords and validity. Implementations must
// be safe for concurrent use and must never put a password in an error.
type DB interface {
	// CreateRole creates a login role with the given password that is valid
	// until validUntil and makes it a member of grantRoles.
	CreateRole(ctx context.Context, name, password string, validUntil time.Time, grantRoles []string) error
	// SetValidUntil moves the role's VALID UNTIL (lease renewal).
	SetValidUntil(ctx context.Context, name string, validUntil time.Time) error
	// DropRole ends the role's sessions and drops it. Dropping a role that
	// does not exist is not an error.
	DropRole(ctx context.Context, name string) error
	// SetPassword changes the role's password (static role rotation).
	SetPassword(ctx context.Context, name, password string) error
}

// Vault's system TTLs, used where a role or the AppRole leaves a TTL at
// zero: the default and maximum lease TTL are both 768h (32 days).
const (
	// SystemDefaultTTL is Vault's default lease TTL.
	SystemDefaultTTL = 768 * time.Hour
	// SystemMaxTTL is Vault's maximum lease TTL.
	SystemMaxTTL = 768 * time.Hour
)

// Config defaults.
const (
	// DefaultAddr is where Run listens when Config.Addr is empty.
	DefaultAddr = "127.0.0.1:0"
	// DefaultMount is the database secrets engine's default mount path.
	DefaultMount = "database"
	// DefaultReapInterval is how often expired leases and tokens are looked for.
	DefaultReapInterval = 200 * time.Millisecond
	// DefaultStaticQueueTick is how often due static-role rotations are
	// looked for: the database backend's queueTickInterval (5s), so a
	// rotation lands up to that long after it was due, as on OpenBao.
	DefaultStaticQueueTick = 5 * time.Second
)

// Config configures a Server.
type Config struct {
	// Addr is the listen address for Run; 127.0.0.1:0 when empty.
	Addr string
	// Mount is where the database secrets engine is mounted; "database"
	// when empty. It may contain slashes ("secret/db").
	Mount string
	// RootToken is the token that never expires, like `vault server -dev`'s
	// root token. Required.
	RootToken string
	// AppRole enables auth/approle/login when its RoleID is set.
	AppRole AppRole
	// DynamicRoles are served at <mount>/creds/<name>.
	DynamicRoles map[string]DynamicRole
	// StaticRoles are served at <mount>/static-creds/<name>.
	StaticRoles map[string]StaticRole
	// DB creates, renews and drops the database roles. Required.
	DB DB
	// ReapInterval is how often the reaper looks for expired leases, expired
	// tokens and due rotations; DefaultReapInterval when zero.
	ReapInterval time.Duration
	// StaticQueueTick is how often due static-role rotations are looked
	// for; DefaultStaticQueueTick when zero.
	StaticQueueTick time.Duration
	// ErrorLog, if set, receives one line per background failure (a failed
	// revocation or rotation). It never receives a token or a password.
	ErrorLog io.Writer
}

// AppRole is the single AppRole role the server knows (Vault's
// auth/approle/role/<RoleName>).
type AppRole struct {
	// RoleName is reported as the token's metadata role_name.
	RoleName string
	// RoleID and SecretID are the login credentials; AppRole login is
	// disabled when RoleID is empty.
	RoleID, SecretID string
	// TokenTTL is the TTL of tokens issued at login; SystemDefaultTTL when zero.
	TokenTTL time.Duration
	// TokenMaxTTL caps token renewals; SystemMaxTTL when zero.
	TokenMaxTTL time.Duration
	// Policies are the token's policies; ["default"] when empty.
	Policies []string
}

// DynamicRole is a database secrets engine role (Vault's
// <mount>/roles/<name>): every read of its creds path creates a new login.
type DynamicRole struct {
	// DefaultTTL is the lease TTL at issue and per renewal; SystemDefaultTTL
	// when zero (capped at MaxTTL).
	DefaultTTL time.Duration
	// MaxTTL is the most a lease can live from issue; SystemMaxTTL when zero.
	MaxTTL time.Duration
	// GrantRoles are the database roles each new login becomes a member of.
	GrantRoles []string
}

// StaticRole is a database secrets engine static role (Vault's
// <mount>/static-roles/<name>): one existing login whose password the server
// rotates every RotationPeriod.
type StaticRole struct {
	// Username is the existing database role.
	Username string
	// RotationPeriod is the time between password rotations. Required.
	// Vault refuses periods under 5s; the stand-in accepts them for tests.
	RotationPeriod time.Duration
}

// roleNameRE is Vault's framework.GenericNameRegex, which the database
// backend's creds and static-creds paths use for the role name.
var roleNameRE = regexp.MustCompile(`^\w(([\w-.]+)?\w)?$`)

// withDefaults returns cfg with Vault's defaults filled in.
func (cfg Config) withDefaults() Config {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	cfg.Mount = strings.Trim(cfg.Mount, "/")
	if cfg.Mount == "" {
		cfg.Mount = DefaultMount
	}
	if cfg.ReapInterval <= 0 {
		cfg.ReapInterval = DefaultReapInterval
	}
	if cfg.StaticQueueTick <= 0 {
		cfg.StaticQueueTick = DefaultStaticQueueTick
	}
	cfg.AppRole = cfg.AppRole.withDefaults()
	cfg.DynamicRoles = dynamicWithDefaults(cfg.DynamicRoles)
	return cfg
}

func (a AppRole) withDefaults() AppRole {
	if a.TokenTTL <= 0 {
		a.TokenTTL = SystemDefaultTTL
	}
	if a.TokenMaxTTL <= 0 {
		a.TokenMaxTTL = SystemMaxTTL
	}
	if len(a.Policies) == 0 {
		a.Policies = []string{"default"}
	}
	return a
}

func dynamicWithDefaults(in map[string]DynamicRole) map[string]DynamicRole {
	out := make(map[string]DynamicRole, len(in))
	for name, r := range in {
		if r.MaxTTL <= 0 {
			r.MaxTTL = SystemMaxTTL
		}
		if r.DefaultTTL <= 0 {
			r.DefaultTTL = min(SystemDefaultTTL, r.MaxTTL)
		}
		r.GrantRoles = append([]string(nil), r.GrantRoles...)
		out[name] = r
	}
	return out
}

// validate reports the first problem with a defaulted Config.
func (cfg Config) validate() error {
	switch {
	case cfg.RootToken == "":
		return errors.New("vaultsrv: RootToken is required")
	case strings.Contains(cfg.RootToken, "."):
		// Vault's and OpenBao's token stores refuse a custom id with a
		// period (so "hvs."/"s." prefixes too): `-dev-root-token-id` fails.
		return errors.New("vaultsrv: RootToken must not contain a period: Vault and OpenBao refuse such custom token ids")
	case cfg.DB == nil:
		return errors.New("vaultsrv: DB is required")
	case cfg.AppRole.RoleID != "" && cfg.AppRole.SecretID == "":
		return errors.New("vaultsrv: AppRole.SecretID is required with AppRole.RoleID")
	case cfg.AppRole.TokenTTL > cfg.AppRole.TokenMaxTTL:
		return errors.New("vaultsrv: AppRole.TokenTTL is greater than AppRole.TokenMaxTTL")
	}
	if err := validateDynamic(cfg.DynamicRoles); err != nil {
		return err
	}
	return validateStatic(cfg.StaticRoles)
}

func validateDynamic(roles map[string]DynamicRole) error {
	for name, r := range roles {
		if !roleNameRE.MatchString(name) {
			return fmt.Errorf("vaultsrv: dynamic role name %q is not a valid Vault role name", name)
		}
		// Vault's path_roles.go refuses "ttl cannot be greater than max_ttl".
		if r.DefaultTTL > r.MaxTTL {
			return fmt.Errorf("vaultsrv: dynamic role %q: ttl cannot be greater than max_ttl", name)
		}
	}
	return nil
}

func validateStatic(roles map[string]StaticRole) error {
	for name, r := range roles {
		switch {
		case !roleNameRE.MatchString(name):
			return fmt.Errorf("vaultsrv: static role name %q is not a valid Vault role name", name)
		case r.Username == "":
			return fmt.Errorf("vaultsrv: static role %q: Username is required", name)
		case r.RotationPeriod <= 0:
			return fmt.Errorf("vaultsrv: static role %q: RotationPeriod must be positive", name)
		}
	}
	return nil
}
