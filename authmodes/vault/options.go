package vault

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/pflag"
)

// Flag defaults.
const (
	// DefaultMount is where the database secrets engine is mounted.
	DefaultMount = "database"
	// DefaultRefreshFraction is the share of a lease's TTL after which new
	// credentials are fetched.
	DefaultRefreshFraction = 0.66
	authToken              = "token"
	authAppRole            = "approle"
	autoJitter             = "auto"
)

// conf holds the mode's flags.
type conf struct {
	fs           *pflag.FlagSet
	addr         string
	auth         string
	tokenFile    string
	roleIDFile   string
	secretIDFile string
	role         string
	staticRole   string
	mount        string
	fraction     float64
	jitterFlag   string
	jitter       time.Duration // parsed jitterFlag; -1 = auto
}

// register adds the mode's flags to fs; defaults come from the variables
// `authbench stack env` exports (paths only, never a secret's value).
func (c *conf) register(fs *pflag.FlagSet) {
	c.fs = fs
	fs.StringVar(&c.addr, "vault-addr", os.Getenv("VAULT_ADDR"), "Vault (or OpenBao) address, e.g. http://127.0.0.1:8200 [$VAULT_ADDR]")
	fs.StringVar(&c.auth, "vault-auth", envOr("AUTHBENCH_VAULT_AUTH", authToken), "how to log in to Vault: token (--vault-token-file, else $VAULT_TOKEN) or approle (--vault-role-id-file, --vault-secret-id-file) [$AUTHBENCH_VAULT_AUTH]")
	fs.StringVar(&c.tokenFile, "vault-token-file", os.Getenv("AUTHBENCH_VAULT_TOKEN_FILE"), "file holding the Vault token [$AUTHBENCH_VAULT_TOKEN_FILE]")
	fs.StringVar(&c.roleIDFile, "vault-role-id-file", os.Getenv("AUTHBENCH_VAULT_ROLE_ID_FILE"), "file holding the AppRole role_id [$AUTHBENCH_VAULT_ROLE_ID_FILE]")
	fs.StringVar(&c.secretIDFile, "vault-secret-id-file", os.Getenv("AUTHBENCH_VAULT_SECRET_ID_FILE"), "file holding the AppRole secret_id [$AUTHBENCH_VAULT_SECRET_ID_FILE]")
	fs.StringVar(&c.role, "vault-role", os.Getenv("AUTHBENCH_VAULT_ROLE"), "dynamic database role: every read of <mount>/creds/<role> is a new user [$AUTHBENCH_VAULT_ROLE]")
	fs.StringVar(&c.staticRole, "vault-static-role", "", "static database role instead of --vault-role: <mount>/static-creds/<role>, a password Vault rotates (the stack's is $AUTHBENCH_VAULT_STATIC_ROLE)")
	fs.StringVar(&c.mount, "vault-mount", DefaultMount, "mount path of Vault's database secrets engine")
	fs.Float64Var(&c.fraction, "vault-refresh-fraction", DefaultRefreshFraction, "fetch new dynamic credentials after this fraction of the lease's TTL")
	fs.StringVar(&c.jitterFlag, "vault-retire-jitter", autoJitter, "after new credentials, retire connections of the old user at random moments within this long (auto: half of what is left of the old lease, at most 10s; 0s: all at once)")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// static reports whether the mode reads a static role.
func (c *conf) static() bool { return c.staticRole != "" }

// rolePath is the path credentials are read from.
func (c *conf) rolePath() string {
	if c.static() {
		return c.mount + "/static-creds/" + c.staticRole
	}
	return c.mount + "/creds/" + c.role
}

// validate checks the flags and says what to change.
func (c *conf) validate() error {
	c.jitter = -1
	switch {
	case c.addr == "":
		return fmt.Errorf("no Vault address: pass --vault-addr or set VAULT_ADDR (`eval \"$(authbench stack env)\"` sets it for the local stack)")
	case c.static() && c.role != "" && c.fs != nil && c.fs.Changed("vault-role"):
		return fmt.Errorf("--vault-role and --vault-static-role exclude each other: pass one")
	case !c.static() && c.role == "":
		return fmt.Errorf("no Vault role: pass --vault-role (dynamic) or --vault-static-role, or run `eval \"$(authbench stack env)\"` first")
	case c.mount == "":
		return fmt.Errorf("--vault-mount must not be empty (Vault's default is %s)", DefaultMount)
	case !(c.fraction > 0 && c.fraction < 1):
		return fmt.Errorf("--vault-refresh-fraction must be between 0 and 1 (exclusive), got %s", strconv.FormatFloat(c.fraction, 'g', -1, 64))
	}
	if c.jitterFlag != autoJitter {
		d, err := time.ParseDuration(c.jitterFlag)
		if err != nil || d < 0 {
			return fmt.Errorf("--vault-retire-jitter must be auto or a duration like 5s, got %q", c.jitterFlag)
		}
		c.jitter = d
	}
	return c.validateAuth()
}

// validateAuth checks the login flags.
func (c *conf) validateAuth() error {
	switch c.auth {
	case authToken:
		if c.tokenFile == "" && os.Getenv("VAULT_TOKEN") == "" {
			return fmt.Errorf("no Vault token: pass --vault-token-file or set VAULT_TOKEN, or use --vault-auth approle")
		}
	case authAppRole:
		if c.roleIDFile == "" || c.secretIDFile == "" {
			return fmt.Errorf("--vault-auth approle needs --vault-role-id-file and --vault-secret-id-file (or `eval \"$(authbench stack env)\"`)")
		}
	default:
		return fmt.Errorf("unknown --vault-auth %q: use token or approle", c.auth)
	}
	return nil
}

// tokenSource names where the token came from, for messages.
func (c *conf) tokenSource() string {
	if c.tokenFile != "" {
		return c.tokenFile
	}
	return "$VAULT_TOKEN"
}

// settings are the flags for summary.json; they name files, never secrets.
func (c *conf) settings() map[string]string {
	s := map[string]string{
		"vault_addr": c.addr, "vault_auth": c.auth, "vault_mount": c.mount,
		"vault_path":             c.rolePath(),
		"vault_refresh_fraction": strconv.FormatFloat(c.fraction, 'g', -1, 64),
		"vault_retire_jitter":    c.jitterFlag,
	}
	if c.auth == authAppRole {
		s["vault_role_id_file"], s["vault_secret_id_file"] = c.roleIDFile, c.secretIDFile
	} else {
		s["vault_token_file"] = c.tokenSource()
	}
	return s
}
