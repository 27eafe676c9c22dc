package main

import (
	"context"
	"crypto/x509"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/authbench/authbench/internal/pgwire"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/spiffe"
	"github.com/authbench/authbench/stack/stacktest"
)

// TestSPIFFEServerSVID runs the stack with `--server-svid`: PostgreSQL
// presents an X509-SVID of its own, which SPIRE renews every few seconds
// (SVID TTL 20 s) and the stack's helper hands to PostgreSQL. The spiffe
// mode verifies the database by SPIFFE ID through the load balancer; a TLS
// probe of our own sees the database present each new SVID while the bank
// runs, with no failed transaction. Clients of the other modes verify the
// same SVID as the load balancer's host name against the stack's CA bundle.
func TestSPIFFEServerSVID(t *testing.T) {
	stacktest.RequireSPIRE(t)
	st := stacktest.Start(t, func(c *stack.Config) {
		spiffe.Enable(c, spiffe.Settings{TTL: svidTTL, ServerSVID: true})
	})
	sp := spiffe.Of(st)
	if s := stacktest.Status(t, st, spiffe.HelperName); !s.Running || s.PID == 0 {
		t.Fatalf("stack status: %+v, want the helper running", s)
	}
	c := newCLI(t, st)
	c.mustRun("init", "bank", "--auth", "spiffe", "--accounts", "5000", "--initial-balance", "500")

	probe := probeServerSVIDs(t, st)
	dir := filepath.Join(t.TempDir(), "run")
	r := startRunFor(t, c, 3*time.Minute, "run", "bank", "--auth", "spiffe", "--server-spiffe-id", sp.ServerSPIFFEID,
		"--concurrency", "4", "--duration", "30s", "--metrics-addr", "", "--out", dir)
	r.wait(t)
	serials := probe.stop()
	s := readSummary(t, dir)
	if tr := s.Op("transfer"); tr.Errors != 0 || tr.Count == 0 {
		t.Errorf("transfer: %d committed, %d failed across server SVID rotations; want no failures", tr.Count, tr.Errors)
	}
	t.Logf("the database presented %d server SVIDs during the run: %v", len(serials), serials)
	if len(serials) < 2 {
		t.Errorf("the database presented %d server SVID(s) in 30 s with a %s TTL; want it to follow SPIRE's renewals", len(serials), svidTTL)
	}
	if want := "TLS: the server verified as " + sp.ServerSPIFFEID; !strings.Contains(r.stdout.String(), want) || s.Server.Peer != sp.ServerSPIFFEID {
		t.Errorf("summary: server %+v, stdout without %q:\n%s", s.Server, want, r.stdout.String())
	}
	c.mustRun("check", "bank", "--run", dir)
	// The other modes verify the SVID as localhost against the CA bundle.
	c.mustRun("run", "bank", "--auth", "cert", "--duration", "3s", "--metrics-addr", "")
	c.mustRun("doctor", "--auth", "spiffe", "--server-spiffe-id", sp.ServerSPIFFEID)
}

// svidProbe opens a TLS connection to the database through the load
// balancer every quarter second and records each new leaf serial it is
// shown, failing the test on a certificate that is not an SVID for the
// server's SPIFFE ID from SPIRE's bundle.
type svidProbe struct {
	t       *testing.T
	mu      sync.Mutex
	serials []string
	cancel  context.CancelFunc
	done    chan struct{}
}

func probeServerSVIDs(t *testing.T, st *stack.State) *svidProbe {
	t.Helper()
	sp := spiffe.Of(st)
	ctx, cancel := context.WithCancel(context.Background())
	src, err := workloadapi.NewBundleSource(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(sp.Endpoint())))
	if err != nil {
		t.Fatal(err)
	}
	want := spiffeid.RequireFromString(sp.ServerSPIFFEID)
	p := &svidProbe{t: t, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer src.Close()
		for ctx.Err() == nil {
			p.look(ctx, st, src, want)
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

// look records the certificate the database presents now.
func (p *svidProbe) look(ctx context.Context, st *stack.State, src *workloadapi.BundleSource, want spiffeid.ID) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	chain, err := pgwire.ServerChain(cctx, stack.HostPort("127.0.0.1", st.LBPort), stack.LBHost)
	if err != nil {
		if ctx.Err() == nil {
			p.t.Errorf("TLS probe: %v", err)
		}
		return
	}
	id, _, err := x509svid.Verify(chain, src)
	if err != nil || id != want {
		p.t.Errorf("the database presents %s (%v); want an SVID for %s", chainName(chain), err, want)
		return
	}
	serial := chain[0].SerialNumber.Text(16)
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.serials); n == 0 || p.serials[n-1] != serial {
		p.serials = append(p.serials, serial)
	}
}

// stop ends the probe and returns the serials in the order seen.
func (p *svidProbe) stop() []string {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.serials
}

func chainName(chain []*x509.Certificate) string {
	if len(chain) == 0 {
		return "no certificate"
	}
	return chain[0].Subject.String()
}
