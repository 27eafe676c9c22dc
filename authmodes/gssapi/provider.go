package gssapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/authbench/authbench/fix"
)

// active is the session the process-wide GSS provider serves.
var active atomic.Pointer[session]

func init() {
	pgconn.RegisterGSSProvider(func() (pgconn.GSS, error) {
		s := active.Load()
		if s == nil {
			return nil, failure("login", nil, fix.Textf("use %v %s", fix.Flag("auth"), Name), "the server asks for Kerberos (gss) authentication")
		}
		return &gss{s: s}, nil
	})
}

func activate(s *session) { active.Store(s) }

func deactivate(s *session) { active.CompareAndSwap(s, nil) }

// gss is one connection's GSSAPI exchange: one SPNEGO token carrying an
// AP-REQ made from the session's service ticket, and the server's answer.
type gss struct{ s *session }

// GetInitToken builds the SPN like libpq does: service/host, the host name
// canonicalised as MIT Kerberos would.
func (g *gss) GetInitToken(host, service string) ([]byte, error) {
	return g.GetInitTokenFromSPN(service + "/" + g.s.canonicalHost(host))
}

// GetInitTokenFromSPN returns the SPNEGO NegTokenInit for spn (pgx's krbspn).
func (g *gss) GetInitTokenFromSPN(spn string) ([]byte, error) {
	t, err := g.s.serviceTicket(spn)
	if err != nil {
		return nil, err
	}
	init, err := spnego.NewNegTokenInitKRB5(g.s.src.cl, t.ticket, t.key)
	if err != nil {
		return nil, fmt.Errorf("kerberos: build the GSSAPI token for %s: %w", g.s.fullSPN(spn), err)
	}
	tok := spnego.SPNEGOToken{Init: true, NegTokenInit: init}
	return tok.Marshal()
}

// Continue accepts the server's final SPNEGO answer; the exchange is one
// round trip, so anything but "accept-completed" is an error.
func (g *gss) Continue(in []byte) (bool, []byte, error) {
	var tok spnego.SPNEGOToken
	if err := tok.Unmarshal(in); err != nil {
		return true, nil, fmt.Errorf("kerberos: the server's GSSAPI answer is not SPNEGO: %w", err)
	}
	if !tok.Resp || tok.NegTokenResp.State() != spnego.NegStateAcceptCompleted {
		return true, nil, errors.New("kerberos: the server did not accept the GSSAPI token (SPNEGO state is not accept-completed)")
	}
	return true, nil, nil
}

// spnFor returns the SPN pgx will ask for on cc: krbspn as given, else
// krbsrvname (default postgres) / the canonical host.
func spnFor(cc *pgx.ConnConfig, canon func(string) string) string {
	if cc.KerberosSpn != "" {
		return cc.KerberosSpn
	}
	srv := cc.KerberosSrvName
	if srv == "" {
		srv = defaultSrvName
	}
	return srv + "/" + canon(cc.Host)
}

// canonicalHost lower-cases host and drops a trailing dot, as MIT does for
// host-based names; when the profile asks for dns_canonicalize_hostname it
// follows CNAMEs first. Results are kept for the session.
func (s *session) canonicalHost(host string) string {
	if v, ok := s.hosts.Load(host); ok {
		return v.(string)
	}
	h := strings.TrimSuffix(host, ".")
	if s.src.conf.cfg.LibDefaults.DNSCanonicalizeHostname && net.ParseIP(h) == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if cname, err := net.DefaultResolver.LookupCNAME(ctx, h); err == nil && cname != "" {
			h = strings.TrimSuffix(cname, ".")
		}
		cancel()
	}
	h = strings.ToLower(h)
	s.hosts.Store(host, h)
	return h
}
