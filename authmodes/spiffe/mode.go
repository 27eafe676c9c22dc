package spiffe

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/fix"
)

// Defaults of the mode's flags.
const (
	// DefaultTimeout bounds the wait for the first SVID.
	DefaultTimeout = 5 * time.Second
	// DefaultRecycleJitter spreads the retirement of connections after a
	// rotation over this long.
	DefaultRecycleJitter = 5 * time.Second
)

func init() {
	authmodes.Register(authmodes.Meta{
		Name:        "spiffe",
		Description: "X509-SVID from the SPIFFE Workload API (CN = SQL user), rotated by the agent",
		New:         newMode,
	})
}

// mode is the spiffe auth mode; its flags are set by the flag set.
type mode struct {
	socket   string
	serverID string
	recycle  bool
	jitter   time.Duration
	timeout  time.Duration

	addr    string
	user    string      // the SQL user asked for ("" when the SVID's CN decides)
	server  spiffeid.ID // zero unless --server-spiffe-id
	src     *workloadapi.X509Source
	events  authmodes.EventSink
	tracker *tracker // nil unless --spiffe-recycle-on-rotation
	stop    context.CancelFunc
	done    chan struct{}

	mu         sync.Mutex
	id         string        // SPIFFE ID of the SVID in use
	serial     string        // serial of the SVID last reported
	notAfter   time.Time     // expiry of the SVID last reported
	expired    string        // serial whose expiry was reported
	streamLost bool          // a watch error was reported since the last update
	arrived    chan struct{} // closed when a new serial arrives (WaitNewCredential)
}

func newMode(fs *pflag.FlagSet) authmodes.Mode {
	m := &mode{}
	fs.StringVar(&m.socket, "spiffe-socket", os.Getenv(workloadapi.SocketEnv), "SPIFFE Workload API address, unix:///path/to/agent.sock [$SPIFFE_ENDPOINT_SOCKET]")
	fs.DurationVar(&m.timeout, "spiffe-timeout", DefaultTimeout, "how long to wait for the first SVID from the Workload API")
	fs.StringVar(&m.serverID, "server-spiffe-id", "", "verify the database server as this SPIFFE ID against the Workload API's bundle instead of against --ca")
	m.recycle = true
	fs.Var(onOff{&m.recycle}, "spiffe-recycle", "on: after each new SVID retire pooled connections that presented an older one, so the server sees every SVID; off: keep them until the pool closes them")
	fs.Lookup("spiffe-recycle").NoOptDefVal = "on"
	fs.BoolVar(&m.recycle, "spiffe-recycle-on-rotation", true, "the same as --spiffe-recycle=on (=false: off)")
	fs.DurationVar(&m.jitter, "spiffe-recycle-jitter", DefaultRecycleJitter, "with --spiffe-recycle on: spread the retirements over this long after a rotation")
	authmodes.DeprecatedAlias(fs, "recycle-on-rotation", "spiffe-recycle-on-rotation")
	authmodes.DeprecatedAlias(fs, "recycle-jitter", "spiffe-recycle-jitter")
	return m
}

// onOff is a bool flag spelled on|off.
type onOff struct{ v *bool }

func (o onOff) String() string {
	if o.v != nil && *o.v {
		return "on"
	}
	return "off"
}

func (o onOff) Set(s string) error {
	switch s {
	case "on":
		*o.v = true
	case "off":
		*o.v = false
	default:
		return fmt.Errorf("want on or off, got %q", s)
	}
	return nil
}

func (o onOff) Type() string { return "on|off" }

// DefaultUser is the stack's SVID user; elsewhere pass --user (the SVID's CN).
func (m *mode) DefaultUser() string { return os.Getenv("AUTHBENCH_SPIFFE_USER") }

// Settings returns the mode's settings; an SVID holds no secret but its
// key, which never leaves the process.
func (m *mode) Settings() map[string]string {
	server := "(verified against --ca)"
	if m.serverID != "" {
		server = m.serverID
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return map[string]string{
		"spiffe_socket": m.addr, "spiffe_id": m.id, "server_spiffe_id": server,
		"recycle_on_rotation": strconv.FormatBool(m.recycle), "recycle_jitter": m.jitter.String(),
	}
}

// Close stops watching for new SVIDs and closes the Workload API client.
func (m *mode) Close() error {
	if m.stop != nil {
		m.stop()
		<-m.done
		m.stop = nil
	}
	if m.src != nil {
		return m.src.Close()
	}
	return nil
}

// Configure fetches the first SVID, checks it against the SQL user,
// installs the TLS hooks, proves the database accepts the SVID and starts
// watching for rotations.
func (m *mode) Configure(ctx context.Context, cfg *pgxpool.Config, env authmodes.Env) error {
	m.events = env.Events
	if err := m.checkFlags(cfg); err != nil {
		return err
	}
	start := time.Now()
	m.user = cfg.ConnConfig.User
	src, err := m.openSource(ctx, m.user)
	if err != nil {
		return err
	}
	m.src = src
	if err := m.first(cfg, env, time.Since(start)); err != nil {
		m.src.Close()
		return err
	}
	m.install(cfg)
	if err := m.probe(ctx, cfg); err != nil {
		m.src.Close()
		return err
	}
	m.startWatch()
	return nil
}

// checkFlags validates the flags and the TLS settings.
func (m *mode) checkFlags(cfg *pgxpool.Config) error {
	if cfg.ConnConfig.TLSConfig == nil {
		return &fix.Error{Step: "settings", What: fix.Textf("the spiffe auth mode needs TLS"), Fix: fix.Textf("use %v verify-full", fix.Flag("sslmode"))}
	}
	if m.timeout <= 0 {
		return &fix.Error{Step: "settings", What: fix.Textf("%v must be positive, got %s", fix.Flag("spiffe-timeout"), m.timeout)}
	}
	if m.jitter < 0 {
		return &fix.Error{Step: "settings", What: fix.Textf("%v must not be negative, got %s", fix.Flag("spiffe-recycle-jitter"), m.jitter)}
	}
	if m.serverID != "" {
		id, err := spiffeid.FromString(m.serverID)
		if err != nil {
			return &fix.Error{Step: "settings", What: fix.Textf("%v %q is not a SPIFFE ID (%v)", fix.Flag("server-spiffe-id"), m.serverID, err), Err: err,
				Fix: fix.Textf("use spiffe://<trust domain>/<path>")}
		}
		m.server = id
	}
	addr, err := address(m.socket)
	if err != nil {
		return err
	}
	m.addr = addr
	return nil
}

// first checks the first SVID, settles the SQL user and reports the wait.
func (m *mode) first(cfg *pgxpool.Config, env authmodes.Env, wait time.Duration) error {
	svid, err := m.src.GetX509SVID()
	if err != nil {
		return &fix.Error{Step: "svid", What: fix.Textf("no SVID from the Workload API at %s: %v", m.addr, err), Err: err, Credential: true}
	}
	if err := m.checkValid(svid, time.Now()); err != nil {
		return err
	}
	if err := checkUser(cfg, svid); err != nil {
		return err
	}
	if env.Phases != nil {
		env.Phases.Phase("credential", wait)
	}
	m.mu.Lock()
	m.id, m.serial, m.notAfter = svid.ID.String(), serialOf(svid), svid.Certificates[0].NotAfter
	m.mu.Unlock()
	m.event("svid", fmt.Sprintf("first SVID %s %s, fetched in %s", svid.ID, describe(svid), wait.Round(time.Microsecond)), false)
	return nil
}

// event reports an event when there is a sink.
func (m *mode) event(kind, detail string, rotation bool) {
	if m.events != nil {
		m.events.Event(kind, "spiffe", detail, rotation)
	}
}

// ServerPeer returns the SPIFFE ID the server is verified as, "" without
// --server-spiffe-id (authmodes.PeerVerifier).
func (m *mode) ServerPeer() string {
	if m.server.IsZero() {
		return ""
	}
	return m.server.String()
}
