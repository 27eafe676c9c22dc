package spiffe

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack/spiffe/spire"
	"github.com/authbench/authbench/stack/stacktest"
)

const (
	clientID = "spiffe://authbench.test/authbench/bench_spiffe"
	serverID = "spiffe://authbench.test/db"
	wait     = 60 * time.Second // upper bound for anything the tests wait for
)

func TestMain(m *testing.M) {
	code := m.Run()
	stacktest.CloseSharedSPIRE()
	os.Exit(code)
}

// issuer is the tests' real SPIRE (one server and agent for the whole
// package, see stacktest.SharedSPIRE) with the client's entry registered.
type issuer struct {
	t    *testing.T
	sp   *stacktest.SPIRE
	addr string
}

// client is the registration entry of the test's SQL user, with SVIDs of
// ttl.
func client(ttl time.Duration) spire.Entry {
	return spire.Entry{ID: "test-client", SPIFFEID: clientID, DNSNames: []string{"bench_spiffe"},
		Selectors: []string{"unix:uid:" + strconv.Itoa(os.Getuid())}, TTL: ttl}
}

// startIssuer returns the package's SPIRE with the client registered for
// SVIDs of an hour (no scheduled rotation during a test).
func startIssuer(t *testing.T) *issuer {
	t.Helper()
	sp := stacktest.SharedSPIRE(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// Registered already (by the test before) with SVIDs of an hour: no
	// need to wait for a new SVID.
	if svid, err := sp.Fetch(ctx, clientID); err != nil || svid.Certificates[0].NotAfter.Sub(svid.Certificates[0].NotBefore) < time.Hour {
		sp.Register(t, client(time.Hour))
	}
	return &issuer{t: t, sp: sp, addr: sp.Endpoint()}
}

// rotate forces a new client SVID through SPIRE and returns its serial.
func (s *issuer) rotate() string { return s.sp.Rotate(s.t, client(time.Hour)) }

// serial returns the serial (hex) of the client SVID the agent serves now.
func (s *issuer) serial() string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	serial, err := s.sp.SVID(ctx, clientID)
	if err != nil {
		s.t.Fatal(err)
	}
	return serial
}

// serverCert mints, through the SPIRE server, an SVID for the fake database
// server (DNS name localhost), valid for an hour.
func (s *issuer) serverCert() *tls.Certificate {
	s.t.Helper()
	dir := s.t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.sp.Mint(ctx, serverID, []string{"localhost"}, time.Hour, dir); err != nil {
		s.t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "svid.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		s.t.Fatal(err)
	}
	return &cert
}

// bundle is SPIRE's trust bundle, usable as --ca for the fake server.
func (s *issuer) bundle() string { return s.sp.BundleFile(s.t) }

// newTestMode returns the mode with its flags parsed from args.
func newTestMode(t *testing.T, args ...string) *mode {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	m := newMode(fs).(*mode)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// poolConfig is a verify-full config for user on localhost:port with ca.
func poolConfig(t *testing.T, user string, port int, ca string) *pgxpool.Config {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(fmt.Sprintf("postgresql://%s@localhost:%d/authbench?sslmode=verify-full&sslrootcert=%s&connect_timeout=10", user, port, ca))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
