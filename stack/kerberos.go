package stack

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/authbench/authbench/stack/kdc"
)

// DefaultGSSUser is the Kerberos user a stack with a KDC gets when it has
// no user with MethodGSS.
const DefaultGSSUser = "bench_gss"

// ServiceNames are the service names whose principals <name>/<LBHost> are
// in PostgreSQL's keytab: libpq's default and the custom SPN of the
// reference deployment. PostgreSQL 15 accepts any principal in its keytab.
var ServiceNames = []string{"postgres", "customspn"}

// KerberosConfig configures the stack's MIT KDC. Zero fields keep what the
// stack already has, else take the defaults (realm EXAMPLE.COM, 10h tickets).
type KerberosConfig struct {
	// Realm is the Kerberos realm. A stack's realm cannot change later:
	// use a new state directory for another realm.
	Realm string
	// TicketLifetime is the maximum life of every ticket, TGTs included;
	// short lifetimes are how renewal is tested.
	TicketLifetime time.Duration
}

// KerberosState is the persisted state of the stack's KDC.
type KerberosState struct {
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

	want KerberosConfig // what this Up asked for; not persisted
}

// ClientKeytab returns the keytab file of a gss user.
func (k *KerberosState) ClientKeytab(user string) string {
	return filepath.Join(k.KeytabDir, "client."+user+".keytab")
}

// ServicePrincipals returns the principals in PostgreSQL's keytab, without
// realm, e.g. "customspn/localhost".
func (s *State) ServicePrincipals() []string {
	var out []string
	for _, n := range ServiceNames {
		out = append(out, n+"/"+s.LBHost)
	}
	return out
}

// kerberosComponent runs an MIT KDC in DIR/kdc and gives PostgreSQL a
// keytab and gss pg_hba lines.
type kerberosComponent struct{}

func (kerberosComponent) name() string { return "kerberos" }

// merge enables the KDC when cfg asks for it and adds DefaultGSSUser when
// the stack has no gss user. A stack keeps its KDC once it has one. The
// gss pg_hba lines and krb_server_keyfile are added here, so the state Up
// saves before anything starts already has them (EnsureUser rewrites
// pg_hba.conf from the saved state).
func (kerberosComponent) merge(cfg Config, s *State) {
	if cfg.Kerberos != nil {
		s.wantKerberos(*cfg.Kerberos)
	}
	if ks := s.Kerberos; ks != nil {
		s.ExtraHBA = appendNew(s.ExtraHBA, s.gssHBA()...)
		s.ExtraPGConf = appendNew(s.ExtraPGConf, "krb_server_keyfile = "+confQuote(ks.ServerKeytab))
	}
}

// wantKerberos records what this Up asks of the KDC. The realm of an
// existing KDC stays: Start refuses to change it.
func (s *State) wantKerberos(want KerberosConfig) {
	if s.Kerberos == nil {
		kd, kt := filepath.Join(s.Dir, "kdc"), filepath.Join(s.Dir, "krb5")
		s.Kerberos = &KerberosState{
			KDCDir: kd, Krb5Conf: filepath.Join(kd, "krb5.conf"),
			KeytabDir: kt, ServerKeytab: filepath.Join(kt, "server.keytab"),
		}
	}
	ks := s.Kerberos
	ks.want = want
	if ks.Realm == "" {
		ks.Realm = cmp.Or(want.Realm, kdc.DefaultRealm)
	}
	if want.TicketLifetime > 0 || ks.TicketLifetimeS == 0 {
		ks.TicketLifetimeS = int64(cmp.Or(want.TicketLifetime, kdc.DefaultTicketLifetime) / time.Second)
	}
	if _, ok := s.FirstUser(MethodGSS); !ok {
		s.addUser(User{Name: DefaultGSSUser, Method: MethodGSS})
	}
}

func (kerberosComponent) enabled(s *State) bool { return s.Kerberos != nil }

// prepare starts the KDC and creates the principals and keytabs. When the
// KDC's realm or lifetime differ from what merge assumed (its directory
// kept other settings), the state is corrected and saved.
func (kerberosComponent) prepare(ctx context.Context, s *State, log io.Writer) error {
	ks := s.Kerberos
	k, err := kdc.Start(ctx, kdc.Config{Dir: ks.KDCDir, Realm: ks.want.Realm, TicketLifetime: ks.want.TicketLifetime})
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "kdc: realm %s on 127.0.0.1:%d (pid %d), tickets live %s\n", k.Realm, k.Port, k.PID, k.TicketLifetime)
	if err := s.serverKeytab(ctx, k); err != nil {
		return err
	}
	for _, u := range s.gssUsers() {
		if err := k.AddPrincipal(ctx, u); err != nil {
			return err
		}
		if err := k.ExportKeytab(ctx, ks.ClientKeytab(u), u); err != nil {
			return err
		}
	}
	if life := int64(k.TicketLifetime / time.Second); k.Realm != ks.Realm || life != ks.TicketLifetimeS {
		stale := s.gssHBA()
		ks.Realm, ks.TicketLifetimeS = k.Realm, life
		s.ExtraHBA = slices.DeleteFunc(slices.Clone(s.ExtraHBA), func(l string) bool { return slices.Contains(stale, l) })
		s.ExtraHBA = appendNew(s.ExtraHBA, s.gssHBA()...)
		return s.save()
	}
	return nil
}

// appendNew appends the lines list lacks, never into the caller's Config
// slice that list may share its array with.
func appendNew(list []string, lines ...string) []string {
	list = slices.Clip(list)
	for _, l := range lines {
		if !slices.Contains(list, l) {
			list = append(list, l)
		}
	}
	return list
}

// serverKeytab creates the service principals and exports them into
// PostgreSQL's keytab, owned by the user PostgreSQL runs as.
func (s *State) serverKeytab(ctx context.Context, k *kdc.KDC) error {
	// PostgreSQL, maybe run as another user, must reach server.keytab.
	if err := mkdirTraversable(s.Kerberos.KeytabDir); err != nil {
		return err
	}
	spns := s.ServicePrincipals()
	for _, p := range spns {
		if err := k.AddPrincipal(ctx, p); err != nil {
			return err
		}
	}
	if err := k.ExportKeytab(ctx, s.Kerberos.ServerKeytab, spns...); err != nil {
		return err
	}
	pu, err := pgRunner(s.Dir)
	if err != nil {
		return err
	}
	if o := pu.owner(); o != nil {
		if err := os.Chown(s.Kerberos.ServerKeytab, o.UID, o.GID); err != nil {
			return fmt.Errorf("give %s to user %s: %w", s.Kerberos.ServerKeytab, pu.name, err)
		}
	}
	return nil
}

// mkdirTraversable creates dir if need be and makes it 0755 even when it
// already existed, so that other users can reach the files inside.
func mkdirTraversable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("make %s traversable: %w", dir, err)
	}
	return nil
}

// gssUsers returns the names of the users with MethodGSS.
func (s *State) gssUsers() []string {
	var out []string
	for _, u := range s.Users {
		if u.Method == MethodGSS {
			out = append(out, u.Name)
		}
	}
	return out
}

// gssHBA returns one pg_hba line per gss user; the realm is checked and
// stripped, so principal bench_gss@REALM logs in as role bench_gss.
func (s *State) gssHBA() []string {
	var out []string
	for _, u := range s.gssUsers() {
		out = append(out, hbaLine(u, "127.0.0.1/32", "gss include_realm=0 krb_realm="+s.Kerberos.Realm))
	}
	return out
}

func (kerberosComponent) finish(ctx context.Context, s *State, log io.Writer) error {
	return nil
}

func (kerberosComponent) stop(s *State, log io.Writer) error {
	k, err := kdc.Load(s.Kerberos.KDCDir)
	if err != nil || k.PID == 0 {
		return nil // never set up, or not running
	}
	fmt.Fprintf(log, "kdc: stopping (pid %d)\n", k.PID)
	return kdc.Stop(s.Kerberos.KDCDir)
}

func (kerberosComponent) status(s *State) []ComponentStatus {
	k, err := kdc.Load(s.Kerberos.KDCDir)
	if err != nil {
		return []ComponentStatus{{Name: "kdc"}}
	}
	return []ComponentStatus{{Name: "kdc", PID: k.PID, Address: hostPort("127.0.0.1", k.Port), Running: k.Running()}}
}

// env exports the client profile and the first gss user's keytab: paths
// and names only.
func (kerberosComponent) env(s *State) []EnvVar {
	ks := s.Kerberos
	u, _ := s.FirstUser(MethodGSS)
	keytab := ""
	if u.Name != "" {
		keytab = ks.ClientKeytab(u.Name)
	}
	return []EnvVar{
		{"KRB5_CONFIG", ks.Krb5Conf},
		{"AUTHBENCH_GSS_USER", u.Name},
		{"AUTHBENCH_KEYTAB", keytab},
		{"AUTHBENCH_KRB_REALM", ks.Realm},
	}
}
