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

	"github.com/authbench/authbench/fix"
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
	fs.StringVar(&c.User, "user", "", "SQL user (default: the auth mode's user from the stack's environment, e.g. $AUTHBENCH_CERT_USER)")
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
			return settingsError(fix.Textf("%v=%s does not fully verify the server", fix.Flag("sslmode"), c.SSLMode),
				fix.Textf("add %v to accept that, or use %v=verify-full", fix.Flag("insecure"), fix.Flag("sslmode")), nil)
		}
	default:
		return settingsError(fix.Textf("unknown %v %q", fix.Flag("sslmode"), c.SSLMode), fix.Textf("use verify-full (default), verify-ca, require or disable"), nil)
	}
	if c.URL != "" {
		return nil
	}
	if c.Port < 1 || c.Port > 65535 {
		return settingsError(fix.Textf("%v must be between 1 and 65535, got %d", fix.Flag("port"), c.Port), fix.Text{}, nil)
	}
	if c.SSLMode != SSLDisable && c.SSLMode != SSLRequire && c.CAFile == "" {
		return settingsError(fix.Textf("no CA certificate to verify the server with"),
			fix.Textf("pass %v, or run `eval \"$(%v)\"` first", fix.Flag("ca"), fix.Command("stack env")), nil)
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			return settingsError(fix.Textf("CA certificate %s: %v", c.CAFile, unwrapPathErr(err)), fix.Textf("check %v", fix.Flag("ca")), err)
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
		return nil, settingsError(fix.Textf("invalid connection settings: %s", firstLine(err.Error())),
			fix.Textf("check %v or %v/%v", fix.Flag("url"), fix.Flag("host"), fix.Flag("port")), err)
	}
	if c.URL != "" && user != "" && cfg.ConnConfig.User == "" {
		cfg.ConnConfig.User = user
	}
	if c.URL != "" && !strings.Contains(c.URL, "sslmode=verify-full") && !c.Insecure {
		return nil, settingsError(fix.Textf("%v must contain sslmode=verify-full", fix.Flag("url")),
			fix.Textf("add %v to accept weaker TLS verification", fix.Flag("insecure")), nil)
	}
	return cfg, nil
}

// settingsError is a connection setting that cannot work: what is wrong,
// how to fix it and the cause, if any.
func settingsError(what, repair fix.Text, cause error) error {
	return &fix.Error{Step: "settings", What: what, Fix: repair, Err: cause}
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
