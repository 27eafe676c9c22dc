package spiffe

import (
	"context"
	"crypto/x509"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/authbench/authbench/doctor"
	"github.com/authbench/authbench/fix"
)

// serverCheck is doctor's step server-svid (with --server-spiffe-id): a
// TLS handshake with the database server, presenting svid, must show an
// X509-SVID for the --server-spiffe-id that chains to the Workload API's
// bundle.
func (m *mode) serverCheck(ctx context.Context, cfg *pgxpool.Config, svid *x509svid.SVID) doctor.Check {
	id, err := spiffeid.FromString(m.serverID)
	if err != nil {
		return doctor.Fail("", fix.Textf("%v %q is not a SPIFFE ID (%v)", fix.Flag("server-spiffe-id"), m.serverID, err),
			fix.Textf("use spiffe://<trust domain>/<path>"))
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	client, err := workloadapi.New(ctx, workloadapi.WithAddr(m.addr))
	if err != nil {
		return doctor.FromErr("", err)
	}
	defer client.Close()
	bundles, err := client.FetchX509Bundles(ctx)
	if err != nil {
		return doctor.Fail("", fix.Textf("no trust bundle from the Workload API at %s: %v", m.addr, err), agentFix())
	}
	var seen serverSeen
	verify := tlsconfig.VerifyPeerCertificate(bundles, tlsconfig.AuthorizeID(id))
	cc := cfg.ConnConfig.Copy()
	hookServer(cc.TLSConfig, seen.wrap(verify))
	for _, fb := range cc.Fallbacks {
		hookServer(fb.TLSConfig, seen.wrap(verify))
	}
	get := tlsconfig.GetClientCertificate(svid)
	if cc.TLSConfig != nil {
		cc.TLSConfig.GetClientCertificate = get
	}
	conn, err := pgconn.ConnectConfig(ctx, &cc.Config)
	if err == nil {
		conn.Close(ctx)
	}
	return seen.check(id, err)
}

// serverSeen records what the server's certificate verification saw.
type serverSeen struct {
	mu     sync.Mutex
	done   bool
	err    error
	serial string
	uri    string
}

// wrap records the outcome of verify.
func (s *serverSeen) wrap(verify func([][]byte, [][]*x509.Certificate) error) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, chains [][]*x509.Certificate) error {
		err := verify(raw, chains)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.done, s.err = true, err
		if len(raw) > 0 {
			if leaf, perr := x509.ParseCertificate(raw[0]); perr == nil {
				s.serial = leaf.SerialNumber.Text(16)
				if len(leaf.URIs) > 0 {
					s.uri = leaf.URIs[0].String()
				}
			}
		}
		return err
	}
}

// check turns what was seen (and the connection's error) into the step.
func (s *serverSeen) check(id spiffeid.ID, connErr error) doctor.Check {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !s.done:
		return doctor.Fail("", fix.Textf("no TLS handshake with the database server: %v", oneLine(fmt.Sprint(connErr))),
			fix.Textf("check %v and %v", fix.Flag("host"), fix.Flag("port")))
	case s.err != nil:
		got := "a certificate without a SPIFFE ID"
		if s.uri != "" {
			got = "an SVID for " + s.uri
		}
		return doctor.Fail("", fix.Textf("the database server presents %s (serial %s), not an SVID for %s that the Workload API's bundle trusts: %v", got, s.serial, id, s.err),
			fix.Textf("check %v, or leave it out to verify the server against %v", fix.Flag("server-spiffe-id"), fix.Flag("ca")))
	}
	return doctor.Pass("", "the database server presents an SVID for %s (serial %s) that chains to the Workload API's bundle", id, s.serial)
}
