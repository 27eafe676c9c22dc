package vault

import (
	"os"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/fix"
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
		return invalid(fix.Textf("no Vault address"),
			fix.Textf("pass %v or set VAULT_ADDR (`eval \"$(%v)\"` sets it for the local stack)", fix.Flag("vault-addr"), fix.Command("stack env")))
	case c.static() && c.role != "" && c.fs != nil && c.fs.Changed("vault-role"):
		return invalid(fix.Textf("%v and %v exclude each other", fix.Flag("vault-role"), fix.Flag("vault-static-role")), fix.Textf("pass one"))
	case !c.static() && c.role == "":
		return invalid(fix.Textf("no Vault role"),
			fix.Textf("pass %v (dynamic) or %v, or run `eval \"$(%v)\"` first", fix.Flag("vault-role"), fix.Flag("vault-static-role"), fix.Command("stack env")))
	case c.mount == "":
		return invalid(fix.Textf("%v must not be empty (Vault's default is %s)", fix.Flag("vault-mount"), DefaultMount), fix.Text{})
	case !(c.fraction > 0 && c.fraction < 1):
		return invalid(fix.Textf("%v must be between 0 and 1 (exclusive), got %s", fix.Flag("vault-refresh-fraction"), strconv.FormatFloat(c.fraction, 'g', -1, 64)), fix.Text{})
	}
	if c.jitterFlag != autoJitter {
		d, err := time.ParseDuration(c.jitterFlag)
		if err != nil || d < 0 {
			return invalid(fix.Textf("%v must be auto or a duration like 5s, got %q", fix.Flag("vault-retire-jitter"), c.jitterFlag), fix.Text{})
		}
		c.jitter = d
	}
	return c.validateAuth()
}

// invalid is the error of settings that cannot work.
func invalid(what, repair fix.Text) error {
	return &fix.Error{Step: "vault", What: what, Fix: repair}
}

// validateAuth checks the login flags.
func (c *conf) validateAuth() error {
	switch c.auth {
	case authToken:
		if c.tokenFile == "" && os.Getenv("VAULT_TOKEN") == "" {
			return invalid(fix.Textf("no Vault token"),
				fix.Textf("pass %v or set VAULT_TOKEN, or use %v approle", fix.Flag("vault-token-file"), fix.Flag("vault-auth")))
		}
	case authAppRole:
		if c.roleIDFile == "" || c.secretIDFile == "" {
			return invalid(fix.Textf("%v approle needs %v and %v", fix.Flag("vault-auth"), fix.Flag("vault-role-id-file"), fix.Flag("vault-secret-id-file")),
				fix.Textf("pass both (or run `eval \"$(%v)\"`)", fix.Command("stack env")))
		}
	default:
		return invalid(fix.Textf("unknown %v %q", fix.Flag("vault-auth"), c.auth), fix.Textf("use token or approle"))
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
