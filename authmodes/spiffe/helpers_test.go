package spiffe

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/authbench/authbench/stack/spiffe/spiffeissuer"
)

const (
	clientID = "spiffe://authbench.test/authbench/bench_spiffe"
	serverID = "spiffe://authbench.test/db"
	wait     = 30 * time.Second // upper bound for anything the tests wait for
)

// issuer is a built-in SPIFFE issuer serving on a temporary socket; it can
// be stopped and served again, like a restarted agent.
type issuer struct {
	t      *testing.T
	iss    *spiffeissuer.Issuer
	cfg    spiffeissuer.Config
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// client is the registration entry of the test's SQL user.
func client() spiffeissuer.Entry {
	return spiffeissuer.Entry{SPIFFEID: clientID, DNSNames: []string{"bench_spiffe"}, UID: os.Getuid()}
}

// server is the entry of the fake database server (DNS name localhost).
func server() spiffeissuer.Entry {
	return spiffeissuer.Entry{SPIFFEID: serverID, DNSNames: []string{"localhost"}, UID: os.Getuid()}
}

// startIssuer serves entries until the test ends.
func startIssuer(t *testing.T, ttl time.Duration, entries ...spiffeissuer.Entry) *issuer {
	t.Helper()
	dir, err := os.MkdirTemp("", "ab-spiffe") // short: sun_path is 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := spiffeissuer.Config{Dir: filepath.Join(dir, "ca"), SocketPath: filepath.Join(dir, "agent.sock"), TTL: ttl, Entries: entries}
	iss, err := spiffeissuer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &issuer{t: t, iss: iss, cfg: cfg, addr: "unix://" + cfg.SocketPath}
	s.serve()
	t.Cleanup(s.stop)
	return s
}

// serve starts serving and waits for the socket.
func (s *issuer) serve() {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { s.done <- s.iss.Serve(ctx) }()
	deadline := time.Now().Add(wait)
	for {
		if c, err := net.Dial("unix", s.cfg.SocketPath); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatal("issuer socket never came up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop stops serving (the SVIDs already handed out stay valid until they
// expire); it is a no-op when not serving.
func (s *issuer) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	if err := <-s.done; err != nil {
		s.t.Errorf("issuer Serve: %v", err)
	}
	s.cancel = nil
}

// restart serves again, after stop, from a new Issuer on the same CA and
// socket whose SVIDs live ttl, as an agent restarted with new settings.
func (s *issuer) restart(ttl time.Duration) {
	s.t.Helper()
	s.stop()
	s.cfg.TTL = ttl
	iss, err := spiffeissuer.New(s.cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.iss = iss
	s.serve()
}

// serial returns the serial (hex) of the SVID currently served for id.
func (s *issuer) serial(id string) string {
	cert, ok := s.iss.Current(id)
	if !ok {
		s.t.Fatalf("no SVID for %s", id)
	}
	return cert.SerialNumber.Text(16)
}

// serverCert fetches the fake database server's SVID as a TLS certificate.
func (s *issuer) serverCert() *tls.Certificate {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	x, err := workloadapi.FetchX509Context(ctx, workloadapi.WithAddr(s.addr))
	if err != nil {
		s.t.Fatal(err)
	}
	for _, svid := range x.SVIDs {
		if svid.ID.String() == serverID {
			cert := &tls.Certificate{PrivateKey: svid.PrivateKey, Leaf: svid.Certificates[0]}
			for _, c := range svid.Certificates {
				cert.Certificate = append(cert.Certificate, c.Raw)
			}
			return cert
		}
	}
	s.t.Fatalf("no SVID for %s", serverID)
	return nil
}

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

// bundle is the issuer's trust bundle, usable as --ca for the fake server.
func (s *issuer) bundle() string { return filepath.Join(s.cfg.Dir, "bundle.pem") }
