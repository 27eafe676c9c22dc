package spiffeissuer_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authbench/authbench/stack/spiffe/spiffeissuer"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const (
	rootID = "spiffe://authbench.test/workload/root"
	bankID = "spiffe://authbench.test/workload/bank"
	// testWait bounds everything a test waits for. It is generous: CI
	// machines can be slow and busy, and it only matters on failure.
	testWait = 30 * time.Second
)

// server is an issuer serving on a temporary socket.
type server struct {
	iss  *spiffeissuer.Issuer
	cfg  spiffeissuer.Config
	addr string // unix://…
}

// testContext is bounded so that no test can hang.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	t.Cleanup(cancel)
	return ctx
}

// socketPath returns a short socket path (sun_path is 108 bytes).
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ab-spiffe")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "workload.sock")
}

// start serves an issuer for entries until the test ends.
func start(t *testing.T, ttl time.Duration, entries ...spiffeissuer.Entry) *server {
	t.Helper()
	cfg := spiffeissuer.Config{Dir: t.TempDir(), SocketPath: socketPath(t), TTL: ttl, Entries: entries}
	iss, err := spiffeissuer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, iss, cfg.SocketPath)
	return &server{iss: iss, cfg: cfg, addr: "unix://" + cfg.SocketPath}
}

// serve runs iss.Serve until the test ends and waits for the socket.
func serve(t *testing.T, iss *spiffeissuer.Issuer, path string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- iss.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(testWait):
			t.Error("Serve did not return after cancel")
		}
	})
	waitForSocket(t, path, done)
}

// waitForSocket waits until path accepts connections.
func waitForSocket(t *testing.T, path string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("Serve returned early: %v", err)
		default:
		}
		if conn, err := net.Dial("unix", path); err == nil {
			conn.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("socket %s never came up", path)
}

// me is an entry for the test process's own UID.
func me(id string, dns ...string) spiffeissuer.Entry {
	return spiffeissuer.Entry{SPIFFEID: id, DNSNames: dns, UID: os.Getuid()}
}

// client dials s with the official go-spiffe client.
func (s *server) client(t *testing.T, ctx context.Context) *workloadapi.Client {
	t.Helper()
	c, err := workloadapi.New(ctx, workloadapi.WithAddr(s.addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// raw dials s with a bare gRPC client that sends no security header.
func (s *server) raw(t *testing.T) workload.SpiffeWorkloadAPIClient {
	t.Helper()
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return workload.NewSpiffeWorkloadAPIClient(conn)
}

// withHeader adds the Workload API security header to ctx.
func withHeader(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "workload.spiffe.io", "true")
}

// readBundle parses the issuer's bundle.pem.
func readBundle(t *testing.T, iss *spiffeissuer.Issuer) *x509bundle.Bundle {
	t.Helper()
	b, err := x509bundle.Load(spiffeid.RequireTrustDomainFromString("authbench.test"), iss.BundlePath())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFetchX509ContextVerifies(t *testing.T) {
	ctx := testContext(t)
	s := start(t, 0, me(rootID, "root", "root.authbench.test"), me(bankID, "bank"))

	x509ctx, err := s.client(t, ctx).FetchX509Context(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(x509ctx.SVIDs) != 2 {
		t.Fatalf("got %d SVIDs, want 2", len(x509ctx.SVIDs))
	}
	svid := x509ctx.DefaultSVID()
	if svid.ID.String() != rootID {
		t.Fatalf("default SVID is %s, want %s (entry order)", svid.ID, rootID)
	}
	// Verify against the bundle the database will trust, not the one served.
	id, _, err := x509svid.Verify(svid.Certificates, readBundle(t, s.iss))
	if err != nil {
		t.Fatal(err)
	}
	leaf := svid.Certificates[0]
	checkLeaf(t, leaf, id, "root")
	if cur, ok := s.iss.Current(rootID); !ok || !cur.Equal(leaf) {
		t.Error("Current does not return the SVID served")
	}
	if leaf.NotAfter.Sub(leaf.NotBefore) > spiffeissuer.DefaultTTL+time.Minute {
		t.Errorf("lifetime %s, want about the default TTL", leaf.NotAfter.Sub(leaf.NotBefore))
	}
}

// checkLeaf checks the X509-SVID profile plus the CN = SQL user rule.
func checkLeaf(t *testing.T, leaf *x509.Certificate, id spiffeid.ID, cn string) {
	t.Helper()
	if id.String() != rootID || len(leaf.URIs) != 1 || leaf.URIs[0].String() != rootID {
		t.Errorf("URI SANs %v, want [%s]", leaf.URIs, rootID)
	}
	if leaf.Subject.CommonName != cn {
		t.Errorf("CN %q, want %q", leaf.Subject.CommonName, cn)
	}
	if leaf.IsCA {
		t.Error("SVID is a CA")
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("KeyUsage %b, want digitalSignature only", leaf.KeyUsage)
	}
	wantEKU := map[x509.ExtKeyUsage]bool{x509.ExtKeyUsageClientAuth: true, x509.ExtKeyUsageServerAuth: true}
	for _, eku := range leaf.ExtKeyUsage {
		delete(wantEKU, eku)
	}
	if len(wantEKU) != 0 {
		t.Errorf("ExtKeyUsage %v lacks clientAuth or serverAuth", leaf.ExtKeyUsage)
	}
	if !leaf.NotBefore.Before(time.Now()) {
		t.Errorf("NotBefore %s is not in the past", leaf.NotBefore)
	}
}

// TestX509SourceSeesRotation checks that the official X509Source receives
// both the scheduled rotation (at TTL/2) and a forced one (Rotate).
func TestX509SourceSeesRotation(t *testing.T) {
	t.Run("timed", func(t *testing.T) {
		s := start(t, 2*time.Second, me(rootID, "root")) // rotates every second
		source := x509Source(t, s)
		waitForNewSerial(t, source, serial(t, source))
	})
	t.Run("forced", func(t *testing.T) {
		// With a 1h TTL the next scheduled rotation is 30 minutes away, so
		// a new SVID within testWait can only be Rotate's push.
		s := start(t, time.Hour, me(rootID, "root"))
		source := x509Source(t, s)
		first := serial(t, source)
		s.iss.Rotate()
		pushed := waitForNewSerial(t, source, first)
		if cur, ok := s.iss.Current(rootID); !ok || cur.SerialNumber.String() != pushed {
			t.Errorf("Current has %v, source has serial %s", cur, pushed)
		}
	})
}

// x509Source is the official X509Source on s, closed when the test ends.
func x509Source(t *testing.T, s *server) *workloadapi.X509Source {
	t.Helper()
	source, err := workloadapi.NewX509Source(testContext(t), workloadapi.WithClientOptions(workloadapi.WithAddr(s.addr)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { source.Close() })
	return source
}

// serial returns the serial of the source's current SVID.
func serial(t *testing.T, source *workloadapi.X509Source) string {
	t.Helper()
	svid, err := source.GetX509SVID()
	if err != nil {
		t.Fatal(err)
	}
	return svid.Certificates[0].SerialNumber.String()
}

// waitForNewSerial polls until the source's SVID serial differs from old.
func waitForNewSerial(t *testing.T, source *workloadapi.X509Source, old string) string {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for time.Now().Before(deadline) {
		if s := serial(t, source); s != old {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no new SVID within %s", testWait)
	return ""
}

func TestUIDSelector(t *testing.T) {
	ctx := testContext(t)
	other := os.Getuid() + 1
	s := start(t, 0,
		spiffeissuer.Entry{SPIFFEID: bankID, DNSNames: []string{"bank"}, UID: other},
		me(rootID, "root"),
		spiffeissuer.Entry{SPIFFEID: "spiffe://authbench.test/any", UID: spiffeissuer.AnyUID},
	)
	svids, err := s.client(t, ctx).FetchX509SVIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, svid := range svids {
		got = append(got, svid.ID.String())
	}
	if len(got) != 2 || got[0] != rootID || got[1] != "spiffe://authbench.test/any" {
		t.Errorf("got SVIDs %v, want [%s spiffe://authbench.test/any]", got, rootID)
	}
}

func TestNoEntryForUIDIsPermissionDenied(t *testing.T) {
	ctx := testContext(t)
	s := start(t, 0, spiffeissuer.Entry{SPIFFEID: bankID, DNSNames: []string{"bank"}, UID: os.Getuid() + 1})
	c := s.client(t, ctx)

	_, err := c.FetchX509Context(ctx)
	wantStatus(t, "FetchX509Context", err, codes.PermissionDenied, "no identity issued")
	_, err = c.FetchX509Bundles(ctx)
	wantStatus(t, "FetchX509Bundles", err, codes.PermissionDenied, "no identity issued")
}

func TestMissingSecurityHeaderIsInvalidArgument(t *testing.T) {
	ctx := testContext(t)
	s := start(t, 0, me(rootID, "root"))
	raw := s.raw(t)

	stream, err := raw.FetchX509SVID(ctx, &workload.X509SVIDRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	wantStatus(t, "FetchX509SVID", err, codes.InvalidArgument, "security header missing from request")
	_, err = raw.FetchJWTSVID(ctx, &workload.JWTSVIDRequest{Audience: []string{"db"}})
	wantStatus(t, "FetchJWTSVID", err, codes.InvalidArgument, "security header missing from request")
}

func TestJWTMethodsAreUnimplemented(t *testing.T) {
	ctx := testContext(t)
	s := start(t, 0, me(rootID, "root"))
	raw := s.raw(t)
	hctx := withHeader(ctx)

	_, err := raw.FetchJWTSVID(hctx, &workload.JWTSVIDRequest{Audience: []string{"db"}})
	wantStatus(t, "FetchJWTSVID", err, codes.Unimplemented, "")
	_, err = raw.ValidateJWTSVID(hctx, &workload.ValidateJWTSVIDRequest{Audience: "db", Svid: "x.y.z"})
	wantStatus(t, "ValidateJWTSVID", err, codes.Unimplemented, "")
	stream, err := raw.FetchJWTBundles(hctx, &workload.JWTBundlesRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	wantStatus(t, "FetchJWTBundles", err, codes.Unimplemented, "")
}

// wantStatus checks a gRPC status code and, when msg is set, its message.
func wantStatus(t *testing.T, call string, err error, code codes.Code, msg string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code || (msg != "" && st.Message() != msg) {
		t.Errorf("%s: got %v, want %s %q", call, err, code, msg)
	}
}

func TestFetchX509BundlesMatchesBundleFile(t *testing.T) {
	ctx := testContext(t)
	s := start(t, 0, me(rootID, "root"))
	set, err := s.client(t, ctx).FetchX509Bundles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	td := spiffeid.RequireTrustDomainFromString("authbench.test")
	got, ok := set.Get(td)
	if !ok {
		t.Fatalf("no bundle for %s", td)
	}
	if !got.Equal(readBundle(t, s.iss)) {
		t.Error("streamed bundle differs from bundle.pem")
	}
}

func TestRestartKeepsCA(t *testing.T) {
	dir := t.TempDir()
	cfg := spiffeissuer.Config{Dir: dir, Entries: []spiffeissuer.Entry{me(rootID, "root")}}
	first, err := spiffeissuer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(first.BundlePath())
	if err != nil {
		t.Fatal(err)
	}
	second, err := spiffeissuer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(second.BundlePath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("bundle changed across restart")
	}
	cur, ok := second.Current(rootID)
	if !ok {
		t.Fatalf("no SVID for %s after restart", rootID)
	}
	if _, _, err := x509svid.Verify([]*x509.Certificate{cur}, readBundle(t, first)); err != nil {
		t.Errorf("SVID after restart does not chain to the old bundle: %v", err)
	}
	checkKeyMode(t, dir)
}

// checkKeyMode requires exactly one key file in dir, with mode 0600.
func checkKeyMode(t *testing.T, dir string) {
	t.Helper()
	keys, _ := filepath.Glob(filepath.Join(dir, "*.key"))
	if len(keys) != 1 {
		t.Fatalf("key files %v, want one", keys)
	}
	fi, err := os.Stat(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %o, want 600", keys[0], fi.Mode().Perm())
	}
}

func TestRestartRejectsOtherTrustDomain(t *testing.T) {
	dir := t.TempDir()
	if _, err := spiffeissuer.New(spiffeissuer.Config{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	_, err := spiffeissuer.New(spiffeissuer.Config{Dir: dir, TrustDomain: "other.test"})
	if err == nil {
		t.Fatal("New accepted a CA from another trust domain")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	for name, cfg := range map[string]spiffeissuer.Config{
		"no dir":              {},
		"short ttl":           {Dir: dir, TTL: time.Millisecond},
		"bad trust domain":    {Dir: dir, TrustDomain: "Not A Domain"},
		"foreign id":          {Dir: dir, Entries: []spiffeissuer.Entry{{SPIFFEID: "spiffe://other.test/x", UID: -1}}},
		"id without path":     {Dir: dir, Entries: []spiffeissuer.Entry{{SPIFFEID: "spiffe://authbench.test", UID: -1}}},
		"duplicate id":        {Dir: dir, Entries: []spiffeissuer.Entry{me(rootID), me(rootID)}},
		"uid below any (-1)":  {Dir: dir, Entries: []spiffeissuer.Entry{{SPIFFEID: rootID, UID: -2}}},
		"not a spiffe id uri": {Dir: dir, Entries: []spiffeissuer.Entry{{SPIFFEID: "https://authbench.test/x", UID: -1}}},
	} {
		if _, err := spiffeissuer.New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestServeReplacesStaleSocketAndRemovesIt(t *testing.T) {
	path := socketPath(t)
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close() // leaves a socket file nobody listens on

	iss, err := spiffeissuer.New(spiffeissuer.Config{Dir: t.TempDir(), SocketPath: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- iss.Serve(ctx) }()
	waitForSocket(t, path, done)

	// A second server must not steal a live socket.
	if err := iss.Serve(ctx); err == nil {
		t.Error("second Serve on a live socket succeeded")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
}

func TestRunLogsOneLine(t *testing.T) {
	path := socketPath(t)
	var log bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- spiffeissuer.Run(ctx, spiffeissuer.Config{Dir: t.TempDir(), SocketPath: path}, &log)
	}()
	waitForSocket(t, path, done)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testWait):
		t.Fatal("Run did not return after cancel")
	}
	line := log.String()
	if bytes.Count(log.Bytes(), []byte("\n")) != 1 || !bytes.Contains(log.Bytes(), []byte(path)) ||
		!bytes.Contains(log.Bytes(), []byte("authbench.test")) || !bytes.Contains(log.Bytes(), []byte("1m0s")) {
		t.Errorf("startup log %q, want one line with socket, trust domain and TTL", line)
	}
}
