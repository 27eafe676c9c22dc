package gssapi

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"

	"github.com/authbench/authbench/fix"
)

// Name is the mode's name for --auth.
const Name = "gssapi"

// defaultSrvName is libpq's default Kerberos service name.
const defaultSrvName = "postgres"

func init() {
	authmodes.Register(authmodes.Meta{
		Name:        Name,
		Description: "Kerberos GSSAPI: a TGT from a keytab, password or ccache, one service ticket lookup per new connection",
		New:         newMode,
	})
}

// mode holds the flags; Configure starts the session.
type mode struct {
	fs           *pflag.FlagSet
	keytab       string
	principal    string
	passwordFile string
	source       string
	krb5Conf     string
	srvName      string
	spn          string
	reloginEvery time.Duration

	sess     *session
	settings map[string]string
}

func newMode(fs *pflag.FlagSet) authmodes.Mode {
	m := &mode{fs: fs}
	fs.StringVar(&m.keytab, "krb-keytab", os.Getenv("AUTHBENCH_KEYTAB"), "gssapi: client keytab [$AUTHBENCH_KEYTAB]")
	fs.StringVar(&m.principal, "krb-principal", os.Getenv("AUTHBENCH_GSS_USER"), "gssapi: Kerberos principal, name or name@REALM (default: the SQL user) [$AUTHBENCH_GSS_USER]")
	fs.StringVar(&m.passwordFile, "krb-password-file", "", "gssapi: file holding the principal's Kerberos password (instead of a keytab)")
	fs.StringVar(&m.source, "krb-source", "auto", "gssapi: where the TGT comes from: auto (password file, else keytab, else ccache), keytab, password or ccache ($KRB5CCNAME, as left by kinit)")
	fs.StringVar(&m.krb5Conf, "krb5-conf", envOr("KRB5_CONFIG", "/etc/krb5.conf"), "gssapi: Kerberos profile with the realm's KDCs [$KRB5_CONFIG]")
	fs.StringVar(&m.srvName, "krbsrvname", envOr("PGKRBSRVNAME", defaultSrvName), "gssapi: Kerberos service name; the SPN is <krbsrvname>/<host>, as in libpq [$PGKRBSRVNAME]")
	fs.StringVar(&m.spn, "krbspn", "", "gssapi: the server's whole principal name (service/host[@REALM]); overrides --krbsrvname")
	fs.DurationVar(&m.reloginEvery, "krb-relogin-every", 0, "gssapi: force a fresh login (new TGT) this often; 0 = only renew before expiry")
	authmodes.DeprecatedAlias(fs, "keytab", "krb-keytab")
	authmodes.DeprecatedAlias(fs, "principal", "krb-principal")
	authmodes.DeprecatedAlias(fs, "relogin-every", "krb-relogin-every")
	return m
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// DefaultUser is the stack's gss user.
func (m *mode) DefaultUser() string { return os.Getenv("AUTHBENCH_GSS_USER") }

// Settings describes the credentials and the SPN; never a password.
func (m *mode) Settings() map[string]string {
	out := map[string]string{"krbsrvname": m.srvName, "krbspn": m.spn, "relogin_every": m.reloginEvery.String()}
	for k, v := range m.settings {
		out[k] = v
	}
	return out
}

// ForceRotation logs in afresh (run --rotate-every): new connections then
// present service tickets got with the new TGT.
func (m *mode) ForceRotation(ctx context.Context) (string, error) {
	if m.sess == nil {
		return "", fmt.Errorf("the gssapi mode is not configured yet")
	}
	return m.sess.rotate()
}

// Close stops the refresher and retires the session.
func (m *mode) Close() error {
	if m.sess != nil {
		m.sess.close()
	}
	return nil
}

// Configure logs in, gets one service ticket for the server's SPN (so a
// wrong --krbsrvname fails here, before any load), installs the session as
// the process's GSS provider and starts renewing the TGT in the background.
func (m *mode) Configure(ctx context.Context, cfg *pgxpool.Config, env authmodes.Env) error {
	if m.reloginEvery < 0 {
		return failure("settings", nil, fix.Text{}, "%v must not be negative, got %s", fix.Flag("krb-relogin-every"), m.reloginEvery)
	}
	m.applySPN(cfg.ConnConfig)
	src, err := m.newSource(cfg.ConnConfig.User)
	if err != nil {
		return fix.Credential(err)
	}
	if m.reloginEvery > 0 && !src.canLogin() {
		return failure("settings", nil, fix.Textf("run kinit instead"),
			"%v needs %v or %v: a credential cache cannot log in again", fix.Flag("krb-relogin-every"), fix.Flag("krb-keytab"), fix.Flag("krb-password-file"))
	}
	s := newSession(src, env.Events, logOr(env.Log))
	if err := s.start(spnFor(cfg.ConnConfig, s.canonicalHost)); err != nil {
		return fix.Credential(err)
	}
	m.sess, m.settings = s, src.settings()
	m.settings["spn"] = s.fullSPN(spnFor(cfg.ConnConfig, s.canonicalHost))
	install(cfg, s)
	s.keepFresh(m.reloginEvery)
	return nil
}

// applySPN puts --krbsrvname and --krbspn into the connection config: a
// flag given on the command line wins over the URL's krbsrvname/krbspn.
func (m *mode) applySPN(cc *pgx.ConnConfig) {
	if m.fs.Changed("krbsrvname") || cc.KerberosSrvName == "" {
		cc.KerberosSrvName = m.srvName
	}
	if m.fs.Changed("krbspn") || cc.KerberosSpn == "" {
		cc.KerberosSpn = m.spn
	}
	m.srvName, m.spn = cc.KerberosSrvName, cc.KerberosSpn
}

// install makes s the GSS provider and fetches the service ticket of every
// new connection in BeforeConnect, where the driver times "credential".
func install(cfg *pgxpool.Config, s *session) {
	activate(s)
	prev := cfg.BeforeConnect
	cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
		if prev != nil {
			if err := prev(ctx, cc); err != nil {
				return err
			}
		}
		if _, err := s.serviceTicket(spnFor(cc, s.canonicalHost)); err != nil {
			return fix.Credential(err)
		}
		return nil
	}
}

func logOr(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
