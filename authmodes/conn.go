package authmodes

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"
)

// SSL modes accepted by --sslmode; anything but verify-full needs --insecure.
const (
	SSLVerifyFull = "verify-full"
	SSLVerifyCA   = "verify-ca"
	SSLRequire    = "require"
	SSLDisable    = "disable"
)

// Conn holds the settings every mode shares: where the database is and how
// its server certificate is verified. Defaults come from the variables that
// `authbench stack env` exports.
type Conn struct {
	URL      string
	Host     string
	Port     int
	Database string
	User     string
	CAFile   string
	SSLMode  string
	Insecure bool
}

// Flags registers the connection flags on fs.
func (c *Conn) Flags(fs *pflag.FlagSet) {
	port, _ := strconv.Atoi(os.Getenv("AUTHBENCH_PORT"))
	if port == 0 {
		port = 26257
	}
	fs.StringVar(&c.URL, "url", "", "connection URL (postgresql://user@host:port/db?sslrootcert=…); overrides --host/--port/--database/--user")
	fs.StringVar(&c.Host, "host", envOr("AUTHBENCH_HOST", "localhost"), "load balancer host name (also the TLS and Kerberos host name) [$AUTHBENCH_HOST]")
	fs.IntVar(&c.Port, "port", port, "load balancer port [$AUTHBENCH_PORT]")
	fs.StringVar(&c.Database, "database", envOr("AUTHBENCH_DATABASE", "authbench"), "database name [$AUTHBENCH_DATABASE]")
	fs.StringVar(&c.User, "user", "", "SQL user (default: the auth mode's user from `stack env`)")
	fs.StringVar(&c.CAFile, "ca", os.Getenv("AUTHBENCH_CA"), "CA certificate that signed the server's certificate [$AUTHBENCH_CA]")
	fs.StringVar(&c.SSLMode, "sslmode", SSLVerifyFull, "TLS verification: verify-full, or verify-ca/require/disable together with --insecure")
	fs.BoolVar(&c.Insecure, "insecure", false, "allow an --sslmode weaker than verify-full (printed in the summary)")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// urlSSLMode finds the sslmode a --url names, as a URL query parameter or
// a key=value setting.
var urlSSLMode = regexp.MustCompile(`(?:^|[?&\s])sslmode\s*=\s*'?([A-Za-z-]+)`)

// TLSMode returns the sslmode in force: --sslmode, or the one --url names
// (libpq's default, prefer, when it names none).
func (c *Conn) TLSMode() string {
	if c.URL == "" {
		return c.SSLMode
	}
	if m := urlSSLMode.FindStringSubmatch(c.URL); m != nil {
		return m[1]
	}
	return "prefer"
}

// Weakened reports whether TLS verification is weaker than verify-full.
func (c *Conn) Weakened() bool { return c.TLSMode() != SSLVerifyFull }

// Validate checks the settings and says what to change.
func (c *Conn) Validate() error {
	switch c.SSLMode {
	case SSLVerifyFull:
	case SSLVerifyCA, SSLRequire, SSLDisable:
		if !c.Insecure {
			return fmt.Errorf("--sslmode=%s does not fully verify the server: add --insecure to accept that, or use --sslmode=verify-full", c.SSLMode)
		}
	default:
		return fmt.Errorf("unknown --sslmode %q: use verify-full (default), verify-ca, require or disable", c.SSLMode)
	}
	if c.URL != "" {
		return nil
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("--port must be between 1 and 65535, got %d", c.Port)
	}
	if c.SSLMode != SSLDisable && c.SSLMode != SSLRequire && c.CAFile == "" {
		return fmt.Errorf("no CA certificate to verify the server with: pass --ca, or run `eval \"$(authbench stack env)\"` first")
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			return fmt.Errorf("CA certificate %s: %v (check --ca)", c.CAFile, unwrapPathErr(err))
		}
	}
	return nil
}

// PoolConfig builds a pool config for user from the settings.
func (c *Conn) PoolConfig(user string) (*pgxpool.Config, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	dsn := c.URL
	if dsn == "" {
		q := url.Values{}
		q.Set("sslmode", c.SSLMode)
		if c.CAFile != "" {
			q.Set("sslrootcert", c.CAFile)
		}
		u := url.URL{Scheme: "postgresql", Host: fmt.Sprintf("%s:%d", c.Host, c.Port), Path: "/" + c.Database, RawQuery: q.Encode()}
		if user != "" {
			u.User = url.User(user)
		}
		dsn = u.String()
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("invalid connection settings: %s (check --url or --host/--port)", firstLine(err.Error()))
	}
	if c.URL != "" && user != "" && cfg.ConnConfig.User == "" {
		cfg.ConnConfig.User = user
	}
	if c.URL != "" && !strings.Contains(c.URL, "sslmode=verify-full") && !c.Insecure {
		return nil, fmt.Errorf("--url must contain sslmode=verify-full, or add --insecure to accept weaker TLS verification")
	}
	return cfg, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
