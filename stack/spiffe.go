package stack

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/authbench/authbench/stack/spiffe/spiffeissuer"
)

// SPIFFEUser is the SQL user the stack's SVIDs are issued for: the first
// DNS name of its registration entry, hence the SVID's CN.
const SPIFFEUser = "bench_spiffe"

// spiffeName is the component's name in status lines and its built-in
// server's name (`authbench stack serve-spiffe`, DIR/spiffe/).
const spiffeName = "spiffe"

// SPIFFEConfig configures the stack's SPIFFE Workload API: the built-in
// issuer (spiffeissuer) run as `authbench stack serve-spiffe`.
type SPIFFEConfig struct {
	// TTL is the X509-SVID lifetime; a new SVID is pushed at TTL/2.
	// Zero means spiffeissuer.DefaultTTL (1 minute).
	TTL time.Duration
	// TrustDomain is the SPIFFE trust domain; "" means
	// spiffeissuer.DefaultTrustDomain (authbench.test).
	TrustDomain string
}

// SPIFFEState is the persisted state of the stack's SPIFFE component; the
// issuer process reads it (IssuerConfig) when it starts.
type SPIFFEState struct {
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

	// restart is set by merge when the issuer must restart to apply a
	// changed configuration; it is not persisted.
	restart bool
}

// IssuerConfig returns the configuration of the built-in issuer.
func (st *SPIFFEState) IssuerConfig() spiffeissuer.Config {
	return spiffeissuer.Config{
		Dir: st.CADir, SocketPath: st.SocketPath, TrustDomain: st.TrustDomain, TTL: st.TTL,
		Entries: []spiffeissuer.Entry{{SPIFFEID: st.SPIFFEID, DNSNames: []string{st.User}, UID: st.UID}},
	}
}

// Endpoint returns the Workload API address, unix://<socket path>, as
// SPIFFE_ENDPOINT_SOCKET wants it.
func (st *SPIFFEState) Endpoint() string { return "unix://" + st.SocketPath }

// spiffeComponent runs the SPIFFE Workload API and adds the SVID user.
type spiffeComponent struct{}

func (spiffeComponent) name() string { return spiffeName }

// merge enables the component when cfg asks for it. Once a stack has it, it
// keeps it (an Up without cfg.SPIFFE keeps the last settings), so Down
// always stops the issuer it started.
func (spiffeComponent) merge(cfg Config, s *State) {
	if cfg.SPIFFE == nil && s.SPIFFE == nil {
		return
	}
	next := s.newSPIFFEState(cfg.SPIFFE)
	if old := s.SPIFFE; old != nil {
		next.restart = old.TrustDomain != next.TrustDomain || old.TTL != next.TTL || old.UID != next.UID
	}
	s.SPIFFE = next
	// Done here, not in prepare, so that state.json records them and a
	// later EnsureUser keeps the SVID user and the bundle.
	s.addUser(User{Name: next.User, Method: MethodCert})
	s.ExtraClientCAs = appendNew(s.ExtraClientCAs, next.BundleFile)
}

// newSPIFFEState lays out the component's state for cfg; a nil cfg keeps
// the current settings.
func (s *State) newSPIFFEState(cfg *SPIFFEConfig) *SPIFFEState {
	td, ttl := spiffeissuer.DefaultTrustDomain, spiffeissuer.DefaultTTL
	if old := s.SPIFFE; old != nil {
		td, ttl = old.TrustDomain, old.TTL
	}
	if cfg != nil {
		td, ttl = cfg.TrustDomain, cfg.TTL
		if td == "" {
			td = spiffeissuer.DefaultTrustDomain
		}
		if ttl == 0 {
			ttl = spiffeissuer.DefaultTTL
		}
	}
	dir := s.builtinDir(spiffeName)
	caDir := filepath.Join(dir, td)
	return &SPIFFEState{
		TrustDomain: td, TTL: ttl,
		SocketPath: filepath.Join(dir, "agent.sock"),
		CADir:      caDir, BundleFile: filepath.Join(caDir, "bundle.pem"),
		User: SPIFFEUser, SPIFFEID: "spiffe://" + td + "/authbench/" + SPIFFEUser,
		UID: os.Getuid(),
	}
}

func (spiffeComponent) enabled(s *State) bool { return s.SPIFFE != nil }

// prepare starts the issuer, which writes the bundle PostgreSQL's
// ssl_ca_file is built from.
func (spiffeComponent) prepare(ctx context.Context, s *State, log io.Writer) error {
	st := s.SPIFFE
	if err := st.validate(); err != nil {
		return err
	}
	noteSPIRE(log)
	// World-traversable like a SPIRE agent's socket directory: attestation,
	// not file modes, decides who gets an SVID. Keys inside stay 0600.
	if err := mkdirTraversable(s.builtinDir(spiffeName)); err != nil {
		return err
	}
	if st.restart {
		fmt.Fprintln(log, "spiffe: settings changed, restarting the issuer")
		if err := s.stopBuiltin(spiffeName, log); err != nil {
			return err
		}
	}
	if err := s.startBuiltin(ctx, spiffeName, log); err != nil {
		return err
	}
	fmt.Fprintf(log, "spiffe: workload api on %s, trust domain %s, svid ttl %s, user %s\n", st.Endpoint(), st.TrustDomain, st.TTL, st.User)
	return nil
}

// validate checks what the issuer would otherwise reject at start.
func (st *SPIFFEState) validate() error {
	if _, err := spiffeid.TrustDomainFromString(st.TrustDomain); err != nil {
		return fmt.Errorf("SPIFFE trust domain %q is invalid: use lower-case letters, digits, dots, dashes and underscores, like %s", st.TrustDomain, spiffeissuer.DefaultTrustDomain)
	}
	if st.TTL < spiffeissuer.MinTTL {
		return fmt.Errorf("SVID TTL %s is too short: use at least %s", st.TTL, spiffeissuer.MinTTL)
	}
	if len(st.SocketPath) > maxSocketPath {
		return fmt.Errorf("SPIFFE socket path %s is longer than %d bytes: use a shorter --dir", st.SocketPath, maxSocketPath)
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

func (spiffeComponent) finish(ctx context.Context, s *State, log io.Writer) error { return nil }

func (spiffeComponent) stop(s *State, log io.Writer) error { return s.stopBuiltin(spiffeName, log) }

func (spiffeComponent) status(s *State) []ComponentStatus {
	pid := s.builtinPID(spiffeName)
	return []ComponentStatus{{Name: spiffeName, PID: pid, Address: s.SPIFFE.Endpoint(), Running: alive(pid)}}
}

func (spiffeComponent) env(s *State) []EnvVar {
	return []EnvVar{
		{"SPIFFE_ENDPOINT_SOCKET", s.SPIFFE.Endpoint()},
		{"AUTHBENCH_SPIFFE_USER", s.SPIFFE.User},
	}
}
