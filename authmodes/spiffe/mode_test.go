package spiffe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/authmodes/authmodestest"
	"github.com/authbench/authbench/fix"
	"github.com/authbench/authbench/stack/pki"
	"github.com/authbench/authbench/stack/spiffe/spire"
	"github.com/authbench/authbench/stack/stacktest"
)

// configure runs Configure with a fresh recorder; every event it gets must
// come from the spiffe mode.
func configure(t *testing.T, m *mode, cfg *pgxpool.Config) (*authmodestest.Recorder, error) {
	t.Helper()
	rec := &authmodestest.Recorder{}
	t.Cleanup(func() {
		if other := rec.Match(func(e authmodestest.Event) bool { return e.Source != "spiffe" }); len(other) > 0 {
			t.Errorf("events from another source: %v", other)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return rec, m.Configure(ctx, cfg, authmodes.Env{Events: rec, Phases: rec})
}

// wantError checks err is one line mentioning every part.
func wantError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	t.Logf("error: %v", err)
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans lines: %q", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

// openPool opens a pool on cfg, closed when the test ends.
func openPool(t *testing.T, cfg *pgxpool.Config) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// acquire acquires a connection and returns its backend pid.
func acquire(t *testing.T, p *pgxpool.Pool) uint32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	return c.Conn().PgConn().PID()
}

// last returns the last serial the fake server saw.
func last(t *testing.T, f *fakePG) string {
	t.Helper()
	s := f.seen()
	if len(s) == 0 {
		t.Fatal("the server saw no client certificate")
	}
	return s[len(s)-1]
}

func TestMissingSocket(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ socket, want string }{
		{"", "no SPIFFE Workload API socket"},
		{"unix:///nonexistent/agent.sock", "no SPIFFE Workload API socket at /nonexistent/agent.sock"},
		{"/nonexistent/agent.sock", "no SPIFFE Workload API socket at /nonexistent/agent.sock"},
		{"unix://" + file, "is not a socket"},
		{"http://example.com/x", "http://example.com/x"},
	} {
		m := newTestMode(t, "--spiffe-socket", c.socket)
		_, err := configure(t, m, poolConfig(t, "bench_spiffe", 1, otherCA(t)))
		wantError(t, err, c.want)
		if fe, ok := fix.As(err); !ok || fe.Step != "spiffe-socket" || !fix.Refers(err, fix.Flag("spiffe-socket")) {
			t.Errorf("socket %q: %v is not an error of step spiffe-socket naming the setting", c.socket, err)
		}
	}
}

func TestNobodyListening(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // a socket file nobody answers on, as a crashed agent leaves
	m := newTestMode(t, "--spiffe-socket", "unix://"+path, "--spiffe-timeout", "1s")
	_, err = configure(t, m, poolConfig(t, "bench_spiffe", 1, otherCA(t)))
	wantError(t, err, "did not answer within 1s", "is the SPIRE agent")
}

func TestNoIdentityFailsWithoutWaiting(t *testing.T) {
	s := startIssuer(t)
	s.sp.Unregister(t, client(0).ID, clientID) // the next test registers it again
	t.Setenv("AUTHBENCH_SPIFFE_USER", "")      // not the stack's socket
	m := newTestMode(t, "--spiffe-socket", s.addr, "--spiffe-timeout", wait.String())
	start := time.Now()
	_, err := configure(t, m, poolConfig(t, "bench_spiffe", 1, otherCA(t)))
	uid := strconv.Itoa(os.Getuid())
	wantError(t, err, "issued no SVID to this process (selectors unix:uid:"+uid, "no identity issued",
		"spire-server entry create -parentID", "-dns bench_spiffe -selector unix:uid:"+uid)
	var ce *fix.Error
	if !errors.As(err, &ce) || !ce.CredentialFailure() || ce.Step != "svid" || ce.Fix.Refers(fix.Command("stack up")) {
		t.Errorf("%T %+v is not a credential failure of step svid whose fix leaves the stack out", err, ce)
	}

	t.Setenv("AUTHBENCH_SPIFFE_USER", "bench_spiffe") // what `stack env` sets with its socket
	t.Setenv("SPIFFE_ENDPOINT_SOCKET", s.addr)
	_, err = configure(t, newTestMode(t, "--spiffe-socket", s.addr), poolConfig(t, "bench_spiffe", 1, otherCA(t)))
	if !errors.As(err, &ce) || !ce.Fix.Refers(fix.Command("stack up")) {
		t.Errorf("with the stack's socket: %v, want a fix that names stack up", err)
	}
	if status.Code(errors.Unwrap(err)) != codes.PermissionDenied {
		t.Errorf("the Workload API's refusal is not in the chain: %v", errors.Unwrap(err))
	}
	if time.Since(start) >= wait {
		t.Error("waited for --spiffe-timeout although the Workload API refused at once")
	}
}

// fixture is the package's SPIRE, a fake database server with an SVID
// for localhost minted by it, and a pool config trusting SPIRE's bundle as
// --ca.
type fixture struct {
	iss *issuer
	db  *fakePG
	cfg *pgxpool.Config
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := startIssuer(t)
	db := startFakePG(t, s.serverCert())
	return &fixture{iss: s, db: db, cfg: poolConfig(t, "bench_spiffe", db.port(), s.bundle())}
}

// newPKIFixture is newFixture with a server certificate from an ordinary
// CA, for tests that stop the agent.
func newPKIFixture(t *testing.T) *fixture {
	t.Helper()
	s := startIssuer(t)
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(dir, "database CA")
	if err != nil {
		t.Fatal(err)
	}
	crt, key, err := ca.IssueServer(dir, "server", []string{"localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	db := startFakePG(t, &cert)
	return &fixture{iss: s, db: db, cfg: poolConfig(t, "bench_spiffe", db.port(), filepath.Join(dir, "ca.crt"))}
}

func TestPresentsCurrentSVIDAndRecycles(t *testing.T) {
	f := newFixture(t)
	m := newTestMode(t, "--spiffe-socket", f.iss.addr, "--spiffe-recycle-on-rotation", "--spiffe-recycle-jitter", "0s")
	rec, err := configure(t, m, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := f.iss.serial()
	if got := last(t, f.db); got != first {
		t.Errorf("the probe presented serial %s, want the current SVID's %s", got, first)
	}
	if d := rec.Phases("credential"); len(d) != 1 || d[0] <= 0 {
		t.Errorf("credential phase %v, want one positive wait for the first SVID", d)
	}
	if ev := rec.Kind("svid"); len(ev) != 1 || !strings.Contains(ev[0].Detail, "serial="+first) {
		t.Errorf("svid events %v, want one with serial=%s", ev, first)
	}
	p := openPool(t, f.cfg)
	pid := acquire(t, p)
	if got := last(t, f.db); got != first {
		t.Errorf("pooled connection presented %s, want %s", got, first)
	}

	second := f.iss.rotate()
	if ev := rec.WaitKind(t, "rotation", 1, wait); !strings.Contains(ev[0].Detail, "serial="+second) {
		t.Errorf("rotation event %q lacks serial=%s", ev[0], second)
	}
	if acquire(t, p) == pid {
		t.Error("the connection that presented the old SVID was handed out after the rotation")
	}
	if got := last(t, f.db); got != second {
		t.Errorf("the new connection presented %s, want the new SVID's %s", got, second)
	}
	if ev := rec.Kind("retire"); len(ev) != 1 || !strings.Contains(ev[0].Detail, "serial="+first) {
		t.Errorf("retire events %v, want one for serial=%s", ev, first)
	}
	if n := m.tracker.size(); n != 1 {
		t.Errorf("tracking %d connections, want 1", n)
	}
	assertNoKey(t, m, rec)
}

// size returns the number of connections t tracks.
func (t *tracker) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// assertNoKey checks that the SVID's private key is in no event or setting.
func assertNoKey(t *testing.T, m *mode, rec *authmodestest.Recorder) {
	t.Helper()
	svid, err := m.src.GetX509SVID()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(svid.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	key := base64.StdEncoding.EncodeToString(der)[:32]
	text := rec.Text()
	for k, v := range m.Settings() {
		text += "\n" + k + "=" + v
	}
	if strings.Contains(text, key) || strings.Contains(text, "PRIVATE KEY") {
		t.Error("the SVID's private key appears in an event or a setting")
	}
}

// rotateUnderConnection configures a mode with --spiffe-socket and args,
// takes a pooled connection, rotates the SVID and waits for the rotation
// event; it returns the connection's backend pid.
func rotateUnderConnection(t *testing.T, args ...string) (*fixture, *authmodestest.Recorder, *pgxpool.Pool, uint32) {
	t.Helper()
	f := newFixture(t)
	m := newTestMode(t, append([]string{"--spiffe-socket", f.iss.addr}, args...)...)
	rec, err := configure(t, m, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := openPool(t, f.cfg)
	pid := acquire(t, p)
	f.iss.rotate()
	rec.WaitKind(t, "rotation", 1, wait)
	return f, rec, p, pid
}

func TestJitterKeepsConnectionUntilItsDeadline(t *testing.T) {
	_, rec, p, pid := rotateUnderConnection(t, "--spiffe-recycle-on-rotation", "--spiffe-recycle-jitter", "1h")
	if got := acquire(t, p); got != pid {
		t.Errorf("connection %d replaced by %d long before its jittered deadline", pid, got)
	}
	if ev := rec.Kind("retire"); len(ev) != 0 {
		t.Errorf("retire events %v before the deadline", ev)
	}
}

func TestWithoutRecycleConnectionsStay(t *testing.T) {
	f, _, p, pid := rotateUnderConnection(t, "--spiffe-recycle=off")
	if got := acquire(t, p); got != pid {
		t.Errorf("connection replaced with --spiffe-recycle=off")
	}
	p.Reset() // new connections present the new SVID
	acquire(t, p)
	if got, want := last(t, f.db), f.iss.serial(); got != want {
		t.Errorf("new connection presented %s, want %s", got, want)
	}
}

func TestServerSPIFFEID(t *testing.T) {
	f := newFixture(t)
	other := otherCA(t) // --ca is not what verifies the server then
	cfg := poolConfig(t, "bench_spiffe", f.db.port(), other)
	m := newTestMode(t, "--spiffe-socket", f.iss.addr, "--server-spiffe-id", serverID)
	if _, err := configure(t, m, cfg); err != nil {
		t.Fatal(err)
	}
	acquire(t, openPool(t, cfg))

	wrong := newTestMode(t, "--spiffe-socket", f.iss.addr, "--server-spiffe-id", "spiffe://authbench.test/elsewhere")
	_, err := configure(t, wrong, poolConfig(t, "bench_spiffe", f.db.port(), other))
	wantError(t, err, "not trusted as spiffe://authbench.test/elsewhere")
	if !fix.Refers(err, fix.Flag("server-spiffe-id")) {
		t.Errorf("%v does not name the server-spiffe-id setting", err)
	}

	bad := newTestMode(t, "--spiffe-socket", f.iss.addr, "--server-spiffe-id", "db.example")
	_, err = configure(t, bad, poolConfig(t, "bench_spiffe", f.db.port(), other))
	wantError(t, err, "is not a SPIFFE ID")
}

// otherCA returns the certificate file of a CA unrelated to the issuer.
func otherCA(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := pki.LoadOrCreateCA(dir, "unrelated CA"); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "ca.crt")
}

func TestServerNotTrustedByCA(t *testing.T) {
	f := newFixture(t)
	m := newTestMode(t, "--spiffe-socket", f.iss.addr)
	_, err := configure(t, m, poolConfig(t, "bench_spiffe", f.db.port(), otherCA(t)))
	wantError(t, err, "server's certificate is not trusted", "x509:")
	if fe, ok := fix.As(err); !ok || fe.Step != "tls" || !fe.CredentialFailure() || !fe.Fix.Refers(fix.Flag("ca")) {
		t.Errorf("%v: want a credential failure of step tls whose fix names the ca setting", err)
	}
	var unknown x509.UnknownAuthorityError // through the mode's error, pgconn's and crypto/tls's
	if !errors.As(err, &unknown) {
		t.Errorf("no x509.UnknownAuthorityError in the chain of %v", err)
	}
}

func TestDatabaseRefusesCN(t *testing.T) {
	f := newFixture(t)
	f.db.reject.Store(true)
	m := newTestMode(t, "--spiffe-socket", f.iss.addr)
	_, err := configure(t, m, f.cfg)
	wantError(t, err, "refused the SVID "+clientID+` as user "bench_spiffe"`, "28000", "-dns <sql user>")
	var pgErr *pgconn.PgError // through the mode's error and pgconn's ConnectError
	if !errors.As(err, &pgErr) || pgErr.Code != "28000" {
		t.Errorf("no *pgconn.PgError 28000 in the chain of %v", err)
	}
}

func TestUserIsTheCN(t *testing.T) {
	f := newFixture(t)
	m := newTestMode(t, "--spiffe-socket", f.iss.addr)
	_, err := configure(t, m, poolConfig(t, "root", f.db.port(), f.iss.bundle()))
	wantError(t, err, `is for SQL user "bench_spiffe"`, "bench_spiffe", "-dns root")
	if fe, ok := fix.As(err); !ok || fe.Step != "svid-user" || !fe.Fix.Refers(fix.Flag("user")) {
		t.Errorf("%v: want an error of step svid-user whose fix names the user setting", err)
	}
}

// TestExpiredSVIDThenRecovery stops the agent until the SVID in use has
// expired, then starts it again.
func TestExpiredSVIDThenRecovery(t *testing.T) {
	f := newPKIFixture(t)
	f.iss.sp.Register(t, client(spireMinTTL)) // expires soon after the agent stops
	m := newTestMode(t, "--spiffe-socket", f.iss.addr)
	rec, err := configure(t, m, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := openPool(t, f.cfg)
	acquire(t, p)
	if err := f.iss.sp.Stop(spire.AgentProc, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { startAgent(t, f.iss.sp) }) // for the tests after this one, even if it fails
	rec.WaitKind(t, "watch-error", 1, wait)
	svid, _ := m.src.GetX509SVID()
	time.Sleep(time.Until(svid.Certificates[0].NotAfter.Add(100 * time.Millisecond)))

	p.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err = p.Acquire(ctx)
	var ce *fix.Error
	if !errors.As(err, &ce) || !ce.CredentialFailure() || ce.Step != "svid" {
		t.Fatalf("connection with an expired SVID: %v (%T), want a credential failure of step svid", err, err)
	}
	wantError(t, ce, "expired at", "sent no new one", "is the SPIRE agent")
	if ev := rec.WaitKind(t, "expired", 1, wait); !strings.Contains(ev[0].Detail, serialOf(svid)) {
		t.Errorf("expired event %q lacks the serial", ev[0])
	}

	// The agent is back with SVIDs of an hour (the entry is changed while
	// it is down), and the source reconnects by itself. SPIRE may issue
	// more than one SVID as it starts: wait for the mode's first new one,
	// then until the mode has the one the agent serves, which no scheduled
	// renewal replaces during the test.
	if err := f.iss.sp.UpdateEntry(ctx, client(time.Hour)); err != nil {
		t.Fatal(err)
	}
	before := len(rec.Kind("rotation"))
	startAgent(t, f.iss.sp)
	rec.WaitKind(t, "rotation", before+1, wait)
	fresh := settled(t, f.iss, m)
	acquire(t, p)
	if got := last(t, f.db); got != fresh {
		t.Errorf("after recovery the connection presented %s, want %s", got, fresh)
	}
}

// settled waits until the mode presents the SVID the agent serves and
// returns its serial.
func settled(t *testing.T, s *issuer, m *mode) string {
	t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(100 * time.Millisecond) {
		serial := s.serial()
		if m.CredentialSerial() == serial {
			return serial
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mode presents serial=%s, the agent serves %s", m.CredentialSerial(), serial)
		}
	}
}

// spireMinTTL is the shortest SVID lifetime with which SPIRE's agent does
// not renew continuously (see stack/spiffe.MinTTL).
const spireMinTTL = 20 * time.Second

// startAgent starts the SPIRE agent again, unless it runs.
func startAgent(t *testing.T, sp *stacktest.SPIRE) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := sp.StartAgent(ctx, io.Discard); err != nil {
		t.Fatal(err)
	}
}

// TestEntryDeleted deletes the workload's registration entry under a
// configured mode: it reports that no identity is issued any more, naming
// the selectors it was attested with, and gets an SVID again once the
// entry is back.
func TestEntryDeleted(t *testing.T) {
	f := newFixture(t)
	m := newTestMode(t, "--spiffe-socket", f.iss.addr)
	rec, err := configure(t, m, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.iss.sp.Unregister(t, client(0).ID, clientID)
	ev := rec.WaitFor(t, "watch-error naming the selectors", 1, wait, func(e authmodestest.Event) bool {
		return e.Kind == "watch-error" && strings.Contains(e.Detail, "no identity issued")
	})
	if !strings.Contains(ev[0].Detail, "unix:uid:"+strconv.Itoa(os.Getuid())) || !strings.Contains(ev[0].Detail, "registration entry") {
		t.Errorf("watch-error %q names neither the selectors nor the entry", ev[0].Detail)
	}
	before := len(rec.Kind("rotation"))
	fresh := f.iss.sp.Register(t, client(time.Hour))
	rec.WaitFor(t, "rotation naming serial="+fresh, before+1, wait, func(e authmodestest.Event) bool {
		return e.Kind == "rotation"
	})
}

// TestServerStopped stops the SPIRE server under a configured mode: the
// agent keeps serving the SVID it has cached, so new connections still
// present it.
func TestServerStopped(t *testing.T) {
	f := newFixture(t)
	m := newTestMode(t, "--spiffe-socket", f.iss.addr)
	if _, err := configure(t, m, f.cfg); err != nil {
		t.Fatal(err)
	}
	cached := f.iss.serial()
	if err := f.iss.sp.Stop(spire.ServerProc, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := f.iss.sp.StartServer(ctx, io.Discard); err != nil {
			t.Fatal(err)
		}
	})
	p := openPool(t, f.cfg)
	acquire(t, p)
	if got := last(t, f.db); got != cached || f.iss.serial() != cached {
		t.Errorf("with the server stopped the connection presented %s and the agent serves %s, want the cached %s", got, f.iss.serial(), cached)
	}
}
