package spiffe

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/pflag"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/spiffe/spire"
	"github.com/authbench/authbench/stack/spiffe/spirebin"
)

// Name is the component's name in state.json, `--without spiffe` and
// DIR/spiffe/.
const Name = "spiffe"

// User is the SQL user the stack's client SVIDs are issued for: the first
// DNS name of its registration entry, hence the SVID's CN.
const User = "bench_spiffe"

// Defaults and limits of the settings.
const (
	// DefaultTTL is the X509-SVID lifetime unless --svid-ttl says otherwise.
	DefaultTTL = time.Minute
	// MinTTL is the shortest X509-SVID lifetime the stack accepts. SPIRE's
	// server takes any whole number of seconds, but it backdates every
	// SVID by 10 s and its agent renews an SVID once less than half of that
	// longer lifetime is left: below about 12 s the agent would renew
	// continuously. 20 s gives a new SVID about every 5 s.
	MinTTL = 20 * time.Second
	// DefaultTrustDomain is the SPIFFE trust domain unless --trust-domain
	// says otherwise.
	DefaultTrustDomain = "authbench.test"
	// MinCATTL is the shortest CA lifetime --spire-ca-ttl accepts: SPIRE
	// wants an SVID to fit in a sixth of it.
	MinCATTL = 2 * time.Minute
)

func init() { stack.Register(20, component{}) }

// Settings configure the stack's SPIRE server and agent.
type Settings struct {
	// TTL is the X509-SVID lifetime; zero means DefaultTTL.
	TTL time.Duration
	// TrustDomain is the SPIFFE trust domain; "" means DefaultTrustDomain.
	TrustDomain string
	// CATTL is the SPIRE server's CA lifetime; zero means SPIRE's default
	// (24 h).
	CATTL time.Duration
	// ServerSVID gives PostgreSQL an SVID of its own (ServerSPIFFEID)
	// instead of the PKI's server certificate.
	ServerSVID bool
}

// Enable asks cfg's Up for SPIRE with settings s.
func Enable(cfg *stack.Config, s Settings) { cfg.Enable(Name, s) }

// State is the persisted state of the stack's SPIFFE component.
type State struct {
	// TrustDomain is the SPIFFE trust domain.
	TrustDomain string `json:"trust_domain"`
	// TTL is the X509-SVID lifetime.
	TTL time.Duration `json:"svid_ttl"`
	// CATTL is the SPIRE server's CA lifetime (zero: SPIRE's default).
	CATTL time.Duration `json:"ca_ttl,omitempty"`
	// Dir holds SPIRE's configuration, data, sockets, pid and log files.
	Dir string `json:"dir"`
	// ServerPort is the SPIRE server's port on 127.0.0.1.
	ServerPort int `json:"server_port"`
	// SocketPath is the agent's Workload API socket.
	SocketPath string `json:"socket_path"`
	// BundleFile is SPIRE's trust bundle (PEM), which PostgreSQL trusts
	// for clients.
	BundleFile string `json:"bundle_file"`
	// User is the SQL user, the client SVID's CN.
	User string `json:"user"`
	// SPIFFEID is the client SVID's SPIFFE ID,
	// spiffe://<trust domain>/authbench/<user>.
	SPIFFEID string `json:"spiffe_id"`
	// UID is the unix user the client entry selects: whoever ran
	// `stack up`.
	UID int `json:"uid"`
	// ServerSVID says PostgreSQL presents an SVID (see HelperName).
	ServerSVID bool `json:"server_svid,omitempty"`
	// ServerSPIFFEID is the database server's SPIFFE ID,
	// spiffe://<trust domain>/authbench/postgres.
	ServerSPIFFEID string `json:"server_spiffe_id"`
	// ServerUID is the unix user the server entry selects: the one
	// PostgreSQL runs as.
	ServerUID int `json:"server_uid"`

	// reset is set by Merge when the trust domain changed: SPIRE's data
	// belongs to the old one and is started afresh. Not persisted.
	reset bool
}

// Of returns the component's state in st, nil when the stack has none.
func Of(st *stack.State) *State { return stack.Section[State](st, Name) }

// Endpoint returns the Workload API address, unix://<socket path>, as
// SPIFFE_ENDPOINT_SOCKET wants it.
func (s *State) Endpoint() string { return "unix://" + s.SocketPath }

// ClientEntryID is the registration entry ID of the client's SVID.
func (s *State) ClientEntryID() string { return "authbench-" + s.User }

// ClientEntry is the registration entry of the client: the SQL user as
// its DNS name (so CN = SQL user), selected by UID.
func (s *State) ClientEntry() spire.Entry {
	return spire.Entry{
		ID: s.ClientEntryID(), SPIFFEID: s.SPIFFEID, DNSNames: []string{s.User},
		Selectors: []string{"unix:uid:" + strconv.Itoa(s.UID)}, TTL: s.TTL,
	}
}

// SPIRE returns the stack's SPIRE deployment with the binaries spirebin
// finds, to run its CLI or stop and start its processes.
func (s *State) SPIRE() (spire.Config, error) {
	bins, err := spirebin.Find()
	if err != nil {
		return spire.Config{}, err
	}
	c := s.spire()
	c.Bins = bins
	return c, nil
}

// spire is the deployment without binaries (enough for pids and paths).
func (s *State) spire() spire.Config {
	return spire.Config{Dir: s.Dir, TrustDomain: s.TrustDomain, SVIDTTL: s.TTL, CATTL: s.CATTL, ServerPort: s.ServerPort}
}

type component struct{}

func (component) Name() string { return Name }

// DefaultOn: `stack up` runs SPIRE unless `--without spiffe`.
func (component) DefaultOn() bool { return true }

// AddFlags registers --svid-ttl, --trust-domain and --spire-ca-ttl.
func (component) AddFlags(fs *pflag.FlagSet) func() (any, error) {
	ttl := fs.Duration("svid-ttl", DefaultTTL, "lifetime of the X509-SVIDs SPIRE issues (SPIRE backdates each by 10s and renews it when half of that is left)")
	td := fs.String("trust-domain", DefaultTrustDomain, "SPIFFE trust domain of the stack's SPIRE")
	ca := fs.Duration("spire-ca-ttl", 0, "lifetime of the SPIRE server's CA (default SPIRE's 24h); a short one makes SPIRE rotate its CA during a run")
	srv := fs.Bool("server-svid", false, "give PostgreSQL an X509-SVID from SPIRE (spiffe://<trust domain>/authbench/postgres) instead of the stack's server certificate, renewed as SPIRE rotates it")
	return func() (any, error) {
		s := Settings{TTL: *ttl, TrustDomain: *td, CATTL: *ca, ServerSVID: *srv}
		if err := s.check(); err != nil {
			return nil, err
		}
		return s, nil
	}
}

// check says in one line what is wrong with the settings.
func (s Settings) check() error {
	if s.TTL != 0 && (s.TTL < MinTTL || s.TTL%time.Second != 0) {
		return fmt.Errorf("--svid-ttl must be at least %s and whole seconds, got %s", MinTTL, s.TTL)
	}
	if _, err := spiffeid.TrustDomainFromString(s.TrustDomain); s.TrustDomain != "" && err != nil {
		return fmt.Errorf("--trust-domain %q is not a SPIFFE trust domain: use lower-case letters, digits, dots, dashes and underscores, like %s", s.TrustDomain, DefaultTrustDomain)
	}
	ttl := s.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if s.CATTL != 0 && (s.CATTL < MinCATTL || s.CATTL < 6*ttl) {
		return fmt.Errorf("--spire-ca-ttl must be at least %s and six times --svid-ttl, got %s", MinCATTL, s.CATTL)
	}
	return nil
}

// Merge enables the component when cfg asks for it. Once a stack has it, it
// keeps it (an Up without it keeps the last settings), so Down always
// stops what Up started.
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
	next.reset = old != nil && old.TrustDomain != next.TrustDomain
	stack.SetSection(st, Name, next)
	// Done here, not in Prepare, so that state.json records them and a
	// later EnsureUser keeps the SVID user and the bundle.
	st.AddUser(stack.User{Name: next.User, Method: stack.MethodCert})
	st.AddClientCA(next.BundleFile)
	if next.ServerSVID {
		st.SetServerTLS(next.serverTLS(st))
	}
}

// newState lays out the component's state for want; nil keeps old's
// settings.
func newState(st *stack.State, old *State, want *Settings) *State {
	next := &State{TrustDomain: DefaultTrustDomain, TTL: DefaultTTL}
	if old != nil {
		next.TrustDomain, next.TTL, next.CATTL, next.ServerPort = old.TrustDomain, old.TTL, old.CATTL, old.ServerPort
		next.ServerSVID = old.ServerSVID
	}
	if want != nil {
		next.TrustDomain, next.TTL, next.CATTL, next.ServerSVID = want.TrustDomain, want.TTL, want.CATTL, want.ServerSVID
		if next.TrustDomain == "" {
			next.TrustDomain = DefaultTrustDomain
		}
		if next.TTL == 0 {
			next.TTL = DefaultTTL
		}
	}
	if next.ServerPort == 0 {
		next.ServerPort, _ = stack.FreePort() // 0 on failure: Prepare reports it
	}
	next.Dir = st.ComponentDir(Name)
	next.SocketPath = filepath.Join(next.Dir, "agent.sock")
	next.BundleFile = filepath.Join(next.Dir, "bundle.pem")
	next.User = User
	next.SPIFFEID = "spiffe://" + next.TrustDomain + "/authbench/" + User
	next.UID = os.Getuid()
	next.ServerSPIFFEID = "spiffe://" + next.TrustDomain + "/authbench/postgres"
	next.ServerUID = serverUID(st)
	return next
}

func (component) Enabled(st *stack.State) bool { return Of(st) != nil }

// validate checks what SPIRE would otherwise reject at start.
func (s *State) validate() error {
	if err := (Settings{TTL: s.TTL, TrustDomain: s.TrustDomain, CATTL: s.CATTL}).check(); err != nil {
		return fmt.Errorf("SPIFFE settings in state.json: %w", err)
	}
	if s.ServerPort == 0 {
		return fmt.Errorf("spire-server: no free port on 127.0.0.1")
	}
	for _, p := range []string{s.SocketPath, s.spire().ServerSocket()} {
		if len(p) > stack.MaxSocketPath {
			return fmt.Errorf("SPIRE socket path %s is longer than %d bytes: use a shorter state directory", p, stack.MaxSocketPath)
		}
	}
	return nil
}

// Stop stops the helper and the bundle watcher, the agent, then the server.
func (component) Stop(st *stack.State, log io.Writer) error {
	for _, name := range []string{HelperName, Name} {
		if err := st.StopServer(name, log); err != nil {
			return err
		}
	}
	c := Of(st).spire()
	if err := c.Stop(spire.AgentProc, log); err != nil {
		return err
	}
	return c.Stop(spire.ServerProc, log)
}

// Status reports the server and the agent.
func (component) Status(st *stack.State) []stack.ComponentStatus {
	s := Of(st)
	c := s.spire()
	return []stack.ComponentStatus{
		{Name: "spiffe-watch", PID: st.PID(Name), Address: s.BundleFile, Running: st.Running(Name)},
		{Name: spire.ServerProc, PID: c.PID(spire.ServerProc), Address: stack.HostPort("127.0.0.1", s.ServerPort), Running: c.Running(spire.ServerProc)},
		{Name: spire.AgentProc, PID: c.PID(spire.AgentProc), Address: s.Endpoint(), Running: c.Running(spire.AgentProc)},
	}
}

func (component) Env(st *stack.State) []stack.EnvVar {
	return []stack.EnvVar{
		{Name: "SPIFFE_ENDPOINT_SOCKET", Value: Of(st).Endpoint()},
		{Name: "AUTHBENCH_SPIFFE_USER", Value: Of(st).User},
	}
}
