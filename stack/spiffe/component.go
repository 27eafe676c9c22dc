package spiffe

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/spiffe/spiffeissuer"
)

// Name is the component's name in status lines, state.json and
// `--without spiffe`, and its built-in server's (`stack serve-spiffe`,
// DIR/spiffe/).
const Name = "spiffe"

// User is the SQL user the stack's SVIDs are issued for: the first DNS
// name of its registration entry, hence the SVID's CN.
const User = "bench_spiffe"

func init() { stack.Register(20, component{}) }

// Settings configure the stack's SPIFFE Workload API: the built-in issuer
// (spiffeissuer) run as `authbench stack serve-spiffe`.
type Settings struct {
	// TTL is the X509-SVID lifetime; a new SVID is pushed at TTL/2.
	// Zero means spiffeissuer.DefaultTTL (1 minute).
	TTL time.Duration
	// TrustDomain is the SPIFFE trust domain; "" means
	// spiffeissuer.DefaultTrustDomain (authbench.test).
	TrustDomain string
}

// Enable asks cfg's Up for the Workload API with settings s.
func Enable(cfg *stack.Config, s Settings) { cfg.Enable(Name, s) }

// State is the persisted state of the stack's SPIFFE component; the
// issuer process reads it (IssuerConfig) when it starts.
type State struct {
	// TrustDomain is the SPIFFE trust domain.
	TrustDomain string `json:"trust_domain"`
	// TTL is the X509-SVID lifetime.
	TTL time.Duration `json:"svid_ttl"`
	// SocketPath is the Workload API's unix socket.
	SocketPath string `json:"socket_path"`
	// CADir holds the trust domain's CA (key 0600) and BundleFile.
	CADir string `json:"ca_dir"`
	// BundleFile is the trust bundle (PEM) PostgreSQL trusts for clients.
	BundleFile string `json:"bundle_file"`
	// User is the SQL user, the SVID's CN.
	User string `json:"user"`
	// SPIFFEID is the SVID's SPIFFE ID, spiffe://<trust domain>/authbench/<user>.
	SPIFFEID string `json:"spiffe_id"`
	// UID is the unix user the registration entry selects: whoever ran
	// `stack up`.
	UID int `json:"uid"`

	// restart is set by Merge when the issuer must restart to apply a
	// changed configuration; it is not persisted.
	restart bool
}

// Of returns the component's state in st, nil when the stack has none.
func Of(st *stack.State) *State { return stack.Section[State](st, Name) }

// IssuerConfig returns the configuration of the built-in issuer.
func (st *State) IssuerConfig() spiffeissuer.Config {
	return spiffeissuer.Config{
		Dir: st.CADir, SocketPath: st.SocketPath, TrustDomain: st.TrustDomain, TTL: st.TTL,
		Entries: []spiffeissuer.Entry{{SPIFFEID: st.SPIFFEID, DNSNames: []string{st.User}, UID: st.UID}},
	}
}

// Endpoint returns the Workload API address, unix://<socket path>, as
// SPIFFE_ENDPOINT_SOCKET wants it.
func (st *State) Endpoint() string { return "unix://" + st.SocketPath }

type component struct{}

func (component) Name() string { return Name }

// DefaultOn: `stack up` runs the Workload API unless `--without spiffe`.
func (component) DefaultOn() bool { return true }

// AddFlags registers --svid-ttl and --trust-domain.
func (component) AddFlags(fs *pflag.FlagSet) func() (any, error) {
	ttl := fs.Duration("svid-ttl", spiffeissuer.DefaultTTL, "lifetime of the SPIFFE X509-SVIDs the stack issues; a new one is pushed at half of it")
	td := fs.String("trust-domain", spiffeissuer.DefaultTrustDomain, "SPIFFE trust domain of the stack's Workload API")
	return func() (any, error) {
		if *ttl < spiffeissuer.MinTTL {
			return nil, fmt.Errorf("--svid-ttl must be at least %s, got %s", spiffeissuer.MinTTL, *ttl)
		}
		if _, err := spiffeid.TrustDomainFromString(*td); err != nil {
			return nil, fmt.Errorf("--trust-domain %q is not a SPIFFE trust domain: use lower-case letters, digits, dots, dashes and underscores, like %s", *td, spiffeissuer.DefaultTrustDomain)
		}
		return Settings{TTL: *ttl, TrustDomain: *td}, nil
	}
}

// Merge enables the component when cfg asks for it. Once a stack has it, it
// keeps it (an Up without it keeps the last settings), so Down always
// stops the issuer it started.
func (component) Merge(cfg stack.Config, st *stack.State) {
	v, asked := cfg.Settings(Name)
	old := Of(st)
	if !asked && old == nil {
		return
	}
	var want *Settings
	if asked {
		s := v.(Settings)
		want = &s
	}
	next := newState(st, old, want)
	if old != nil {
		next.restart = old.TrustDomain != next.TrustDomain || old.TTL != next.TTL || old.UID != next.UID
	}
	stack.SetSection(st, Name, next)
	// Done here, not in Prepare, so that state.json records them and a
	// later EnsureUser keeps the SVID user and the bundle.
	st.AddUser(stack.User{Name: next.User, Method: stack.MethodCert})
	st.AddClientCA(next.BundleFile)
}

// newState lays out the component's state for want; nil keeps old's
// settings.
func newState(st *stack.State, old *State, want *Settings) *State {
	td, ttl := spiffeissuer.DefaultTrustDomain, spiffeissuer.DefaultTTL
	if old != nil {
		td, ttl = old.TrustDomain, old.TTL
	}
	if want != nil {
		td, ttl = want.TrustDomain, want.TTL
		if td == "" {
			td = spiffeissuer.DefaultTrustDomain
		}
		if ttl == 0 {
			ttl = spiffeissuer.DefaultTTL
		}
	}
	dir := st.ComponentDir(Name)
	caDir := filepath.Join(dir, td)
	return &State{
		TrustDomain: td, TTL: ttl,
		SocketPath: filepath.Join(dir, "agent.sock"),
		CADir:      caDir, BundleFile: filepath.Join(caDir, "bundle.pem"),
		User: User, SPIFFEID: "spiffe://" + td + "/authbench/" + User,
		UID: os.Getuid(),
	}
}

func (component) Enabled(st *stack.State) bool { return Of(st) != nil }

// Prepare starts the issuer, which writes the bundle PostgreSQL's
// ssl_ca_file is built from.
func (component) Prepare(ctx context.Context, st *stack.State, log io.Writer) error {
	s := Of(st)
	if err := s.validate(); err != nil {
		return err
	}
	noteSPIRE(log)
	// World-traversable like a SPIRE agent's socket directory: attestation,
	// not file modes, decides who gets an SVID. Keys inside stay 0600.
	if err := stack.MkdirTraversable(st.ComponentDir(Name)); err != nil {
		return err
	}
	if s.restart {
		fmt.Fprintln(log, "spiffe: settings changed, restarting the issuer")
		if err := st.StopServer(Name, log); err != nil {
			return err
		}
	}
	if err := st.StartServer(ctx, Name, log); err != nil {
		return err
	}
	fmt.Fprintf(log, "spiffe: workload api on %s, trust domain %s, svid ttl %s, user %s\n", s.Endpoint(), s.TrustDomain, s.TTL, s.User)
	return nil
}

// validate checks what the issuer would otherwise reject at start.
func (st *State) validate() error {
	if _, err := spiffeid.TrustDomainFromString(st.TrustDomain); err != nil {
		return fmt.Errorf("SPIFFE trust domain %q is invalid: use lower-case letters, digits, dots, dashes and underscores, like %s", st.TrustDomain, spiffeissuer.DefaultTrustDomain)
	}
	if st.TTL < spiffeissuer.MinTTL {
		return fmt.Errorf("SVID TTL %s is too short: use at least %s", st.TTL, spiffeissuer.MinTTL)
	}
	if len(st.SocketPath) > stack.MaxSocketPath {
		return fmt.Errorf("SPIFFE socket path %s is longer than %d bytes: use a shorter state directory", st.SocketPath, stack.MaxSocketPath)
	}
	return nil
}

// noteSPIRE says that SPIRE's binaries are not used even when present: the
// stack only runs its built-in issuer (see docs/spiffe.md).
func noteSPIRE(log io.Writer) {
	_, errServer := exec.LookPath("spire-server")
	_, errAgent := exec.LookPath("spire-agent")
	if errServer == nil && errAgent == nil {
		fmt.Fprintln(log, "spiffe: spire-server and spire-agent are on PATH, but the stack runs its built-in Workload API (see docs/spiffe.md)")
	}
}

func (component) Finish(ctx context.Context, st *stack.State, log io.Writer) error { return nil }

func (component) Stop(st *stack.State, log io.Writer) error { return st.StopServer(Name, log) }

func (component) Status(st *stack.State) []stack.ComponentStatus {
	pid := st.PID(Name)
	return []stack.ComponentStatus{{Name: Name, PID: pid, Address: Of(st).Endpoint(), Running: st.Running(Name)}}
}

func (component) Env(st *stack.State) []stack.EnvVar {
	return []stack.EnvVar{
		{Name: "SPIFFE_ENDPOINT_SOCKET", Value: Of(st).Endpoint()},
		{Name: "AUTHBENCH_SPIFFE_USER", Value: Of(st).User},
	}
}

// RotatesMode: the issuer rotates the spiffe mode's SVIDs.
func (component) RotatesMode(mode string) bool { return mode == "spiffe" }

// Rotate asks the issuer for new SVIDs (SIGUSR1).
func (component) Rotate(_ context.Context, st *stack.State, _ string) (string, error) {
	if err := st.SignalBuiltin(Name, syscall.SIGUSR1); err != nil {
		return "", err
	}
	return "issuer asked for new SVIDs", nil
}
