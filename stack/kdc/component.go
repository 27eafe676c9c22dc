package kdc

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack"
)

// The stack component: an MIT KDC in DIR/kdc, a keytab for PostgreSQL and
// gss pg_hba lines for the stack's gss users.

// Name is the component's name (state.json section, `--without kerberos`).
const Name = "kerberos"

// DefaultGSSUser is the Kerberos user a stack with a KDC gets when it has
// no user with stack.MethodGSS.
const DefaultGSSUser = "bench_gss"

// ServiceNames are the service names whose principals <name>/<LBHost> are
// in PostgreSQL's keytab: libpq's default and the custom SPN of the
// reference deployment. PostgreSQL 15 accepts any principal in its keytab.
var ServiceNames = []string{"postgres", "customspn"}

func init() { stack.Register(10, component{}) }

// Settings configure the stack's KDC. Zero fields keep what the stack
// already has, else take the defaults (realm EXAMPLE.COM, 10h tickets).
type Settings struct {
	// Realm is the Kerberos realm. A stack's realm cannot change later:
	// use a new state directory for another realm.
	Realm string
	// TicketLifetime is the maximum life of every ticket, TGTs included;
	// short lifetimes are how renewal is tested.
	TicketLifetime time.Duration
}

// Enable asks cfg's Up for a KDC with settings s.
func Enable(cfg *stack.Config, s Settings) { cfg.Enable(Name, s) }

// State is the persisted state of the stack's KDC (state.json "kerberos").
type State struct {
	// KDCDir holds the KDC's database, profiles, logs and pid file (0700).
	KDCDir string `json:"kdc_dir"`
	// Krb5Conf is the client profile clients use (KRB5_CONFIG).
	Krb5Conf string `json:"krb5_conf"`
	// Realm is the Kerberos realm.
	Realm string `json:"realm,omitempty"`
	// TicketLifetimeS is the maximum ticket life in seconds.
	TicketLifetimeS int64 `json:"ticket_lifetime_s,omitempty"`
	// KeytabDir holds server.keytab and client.<user>.keytab (all 0600).
	KeytabDir string `json:"keytab_dir"`
	// ServerKeytab is PostgreSQL's krb_server_keyfile, owned by its user.
	ServerKeytab string `json:"server_keytab"`

	want Settings // what this Up asked for; not persisted
}

// Of returns the KDC's state in st, nil when the stack has no KDC.
func Of(st *stack.State) *State { return stack.Section[State](st, Name) }

// ClientKeytab returns the keytab file of a gss user.
func (k *State) ClientKeytab(user string) string {
	return filepath.Join(k.KeytabDir, "client."+user+".keytab")
}

// ServicePrincipals returns the principals in PostgreSQL's keytab, without
// realm, e.g. "customspn/localhost".
func ServicePrincipals(st *stack.State) []string {
	var out []string
	for _, n := range ServiceNames {
		out = append(out, n+"/"+st.LBHost)
	}
	return out
}

type component struct{}

func (component) Name() string { return Name }

// DefaultOn: `stack up` runs a KDC unless `--without kerberos`.
func (component) DefaultOn() bool { return true }

// AddFlags registers --realm and --ticket-lifetime; flags left unset keep
// what an existing stack has (its realm cannot change anyway).
func (component) AddFlags(fs *pflag.FlagSet) func() (any, error) {
	realm := fs.String("realm", DefaultRealm, "Kerberos realm of the stack's KDC (fixed once the stack exists)")
	life := fs.Duration("ticket-lifetime", DefaultTicketLifetime, "maximum Kerberos ticket lifetime, TGTs included (short values exercise renewal)")
	return func() (any, error) {
		var s Settings
		if fs.Changed("realm") {
			if *realm == "" {
				return nil, fmt.Errorf("--realm is empty: pass a realm such as %s", DefaultRealm)
			}
			s.Realm = *realm
		}
		if fs.Changed("ticket-lifetime") {
			if *life < time.Second {
				return nil, fmt.Errorf("--ticket-lifetime %s is under 1s: Kerberos counts whole seconds, use e.g. 30s or 10h", *life)
			}
			s.TicketLifetime = *life
		}
		return s, nil
	}
}

// Merge enables the KDC when cfg asks for it and adds DefaultGSSUser when
// the stack has no gss user. A stack keeps its KDC once it has one. The
// gss pg_hba lines and krb_server_keyfile are added here, so the state Up
// saves before anything starts already has them (EnsureUser rewrites
// pg_hba.conf from the saved state).
func (component) Merge(cfg stack.Config, st *stack.State) {
	if v, ok := cfg.Settings(Name); ok {
		want(st, v.(Settings))
	}
	if ks := Of(st); ks != nil {
		st.AddHBA(gssHBA(st, ks)...)
		st.AddPGConf("krb_server_keyfile = " + stack.ConfQuote(ks.ServerKeytab))
	}
}

// want records what this Up asks of the KDC. The realm of an existing KDC
// stays: Start refuses to change it.
func want(st *stack.State, w Settings) {
	ks := Of(st)
	if ks == nil {
		kd, kt := filepath.Join(st.Dir, "kdc"), filepath.Join(st.Dir, "krb5")
		ks = &State{
			KDCDir: kd, Krb5Conf: filepath.Join(kd, "krb5.conf"),
			KeytabDir: kt, ServerKeytab: filepath.Join(kt, "server.keytab"),
		}
		stack.SetSection(st, Name, ks)
	}
	ks.want = w
	if ks.Realm == "" {
		ks.Realm = cmp.Or(w.Realm, DefaultRealm)
	}
	if w.TicketLifetime > 0 || ks.TicketLifetimeS == 0 {
		ks.TicketLifetimeS = int64(cmp.Or(w.TicketLifetime, DefaultTicketLifetime) / time.Second)
	}
	if _, ok := st.FirstUser(stack.MethodGSS); !ok {
		st.AddUser(stack.User{Name: DefaultGSSUser, Method: stack.MethodGSS})
	}
}

func (component) Enabled(st *stack.State) bool { return Of(st) != nil }

// Prepare starts the KDC and creates the principals and keytabs. When the
// KDC's realm or lifetime differ from what Merge assumed (its directory
// kept other settings), the state is corrected and saved.
func (component) Prepare(ctx context.Context, st *stack.State, log io.Writer) error {
	ks := Of(st)
	k, err := Start(ctx, Config{Dir: ks.KDCDir, Realm: ks.want.Realm, TicketLifetime: ks.want.TicketLifetime})
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "kdc: realm %s on 127.0.0.1:%d (pid %d), tickets live %s\n", k.Realm, k.Port, k.PID, k.TicketLifetime)
	if err := serverKeytab(ctx, st, ks, k); err != nil {
		return err
	}
	for _, u := range st.UserNames(stack.MethodGSS) {
		if err := k.AddPrincipal(ctx, u); err != nil {
			return err
		}
		if err := k.ExportKeytab(ctx, ks.ClientKeytab(u), u); err != nil {
			return err
		}
	}
	if life := int64(k.TicketLifetime / time.Second); k.Realm != ks.Realm || life != ks.TicketLifetimeS {
		st.RemoveHBA(gssHBA(st, ks)...)
		ks.Realm, ks.TicketLifetimeS = k.Realm, life
		st.AddHBA(gssHBA(st, ks)...)
		return st.Save()
	}
	return nil
}

// serverKeytab creates the service principals and exports them into
// PostgreSQL's keytab, owned by the user PostgreSQL runs as.
func serverKeytab(ctx context.Context, st *stack.State, ks *State, k *KDC) error {
	// PostgreSQL, maybe run as another user, must reach server.keytab.
	if err := stack.MkdirTraversable(ks.KeytabDir); err != nil {
		return err
	}
	spns := ServicePrincipals(st)
	for _, p := range spns {
		if err := k.AddPrincipal(ctx, p); err != nil {
			return err
		}
	}
	if err := k.ExportKeytab(ctx, ks.ServerKeytab, spns...); err != nil {
		return err
	}
	return st.GiveToPostgres(ks.ServerKeytab)
}

// gssHBA returns one pg_hba line per gss user; the realm is checked and
// stripped, so principal bench_gss@REALM logs in as role bench_gss.
func gssHBA(st *stack.State, ks *State) []string {
	var out []string
	for _, u := range st.UserNames(stack.MethodGSS) {
		out = append(out, stack.HBALine(u, "127.0.0.1/32", "gss include_realm=0 krb_realm="+ks.Realm))
	}
	return out
}

func (component) Finish(ctx context.Context, st *stack.State, log io.Writer) error { return nil }

func (component) Stop(st *stack.State, log io.Writer) error {
	k, err := Load(Of(st).KDCDir)
	if err != nil || k.PID == 0 {
		return nil // never set up, or not running
	}
	fmt.Fprintf(log, "kdc: stopping (pid %d)\n", k.PID)
	return Stop(Of(st).KDCDir)
}

func (component) Status(st *stack.State) []stack.ComponentStatus {
	k, err := Load(Of(st).KDCDir)
	if err != nil {
		return []stack.ComponentStatus{{Name: "kdc"}}
	}
	return []stack.ComponentStatus{{Name: "kdc", PID: k.PID, Address: stack.HostPort("127.0.0.1", k.Port), Running: k.Running()}}
}

// Env exports the client profile and the first gss user's keytab: paths
// and names only.
func (component) Env(st *stack.State) []stack.EnvVar {
	ks := Of(st)
	u, _ := st.FirstUser(stack.MethodGSS)
	keytab := ""
	if u.Name != "" {
		keytab = ks.ClientKeytab(u.Name)
	}
	return []stack.EnvVar{
		{Name: "KRB5_CONFIG", Value: ks.Krb5Conf},
		{Name: "AUTHBENCH_GSS_USER", Value: u.Name},
		{Name: "AUTHBENCH_KEYTAB", Value: keytab},
		{Name: "AUTHBENCH_KRB_REALM", Value: ks.Realm},
	}
}
