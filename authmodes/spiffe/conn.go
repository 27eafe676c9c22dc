package spiffe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/authbench/authbench/fix"
)

// install hooks the mode into the pool: every new connection presents the
// SVID current when it starts, the server is verified as a SPIFFE peer when
// --server-spiffe-id is set, and stale connections are retired when
// --spiffe-recycle-on-rotation is set.
func (m *mode) install(cfg *pgxpool.Config) {
	if !m.server.IsZero() {
		verify := m.verifyServer()
		hookServer(cfg.ConnConfig.TLSConfig, verify)
		for _, fb := range cfg.ConnConfig.Fallbacks {
			hookServer(fb.TLSConfig, verify)
		}
	}
	if m.recycle {
		m.tracker = newTracker(m.jitter, m.event)
		m.tracker.install(cfg)
	}
	prev := cfg.BeforeConnect
	cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
		if prev != nil {
			if err := prev(ctx, cc); err != nil {
				return err
			}
		}
		serial, err := m.present(&cc.Config)
		if err != nil || m.tracker == nil {
			return err
		}
		m.tracker.watch(&cc.Config, serial)
		return nil
	}
}

// present makes the connection configured by c present the current SVID
// and returns its serial. c is this connection's own copy.
func (m *mode) present(c *pgconn.Config) (string, error) {
	svid, err := m.src.GetX509SVID()
	if err != nil {
		return "", &fix.Error{Step: "svid", What: fix.Textf("no SVID from the Workload API at %s: %v", m.addr, err), Err: err, Credential: true}
	}
	if err := m.checkValid(svid, time.Now()); err != nil {
		return "", err
	}
	get := tlsconfig.GetClientCertificate(svid) // exactly this SVID, even if a new one arrives mid-handshake
	if c.TLSConfig != nil {
		c.TLSConfig.GetClientCertificate = get
	}
	for _, fb := range c.Fallbacks {
		if fb.TLSConfig != nil {
			fb.TLSConfig.GetClientCertificate = get
		}
	}
	return serialOf(svid), nil
}

// checkValid fails when svid has expired (reporting that once per SVID) or
// is not valid yet.
func (m *mode) checkValid(svid *x509svid.SVID, now time.Time) error {
	leaf := svid.Certificates[0]
	serial := serialOf(svid)
	switch {
	case now.After(leaf.NotAfter):
		m.mu.Lock()
		first := m.expired != serial
		m.expired = serial
		m.mu.Unlock()
		if first {
			m.event("expired", fmt.Sprintf("SVID serial=%s expired at %s and the Workload API sent no new one: new connections fail until it does",
				serial, leaf.NotAfter.UTC().Format(time.RFC3339)), false)
		}
		return &fix.Error{Step: "svid", What: fix.Textf("the SVID %s (serial %s) expired at %s and the Workload API at %s sent no new one",
			svid.ID, serial, leaf.NotAfter.UTC().Format(time.RFC3339), m.addr), Credential: true,
			Fix: agentFix()}
	case now.Before(leaf.NotBefore):
		return &fix.Error{Step: "svid", What: fix.Textf("the SVID %s (serial %s) is not valid before %s", svid.ID, serial, leaf.NotBefore.UTC().Format(time.RFC3339)),
			Fix: fix.Textf("check the clocks of this machine and the SPIRE server"), Credential: true}
	}
	return nil
}

// checkUser makes the SQL user the SVID's CN, which is how the database
// maps the certificate to a user, or fails when --user says otherwise.
func checkUser(cfg *pgxpool.Config, svid *x509svid.SVID) error {
	cn := svid.Certificates[0].Subject.CommonName
	user := cfg.ConnConfig.User
	switch {
	case cn == "":
		return &fix.Error{Step: "svid-user", What: fix.Textf("the SVID %s has no CN, so the database cannot map it to a user", svid.ID),
			Fix: fix.Textf("give its registration entry a DNS name (-dns <sql user>)"), Credential: true}
	case user == "":
		cfg.ConnConfig.User = cn
	case user != cn:
		return &fix.Error{Step: "svid-user", What: fix.Textf("the SVID %s is for SQL user %q (its CN, the entry's first DNS name), not %q", svid.ID, cn, user),
			Fix: fix.Textf("pass %v %s, or register the workload with -dns %s", fix.Flag("user"), cn, user), Credential: true}
	}
	return nil
}

// verifyServer returns a VerifyPeerCertificate callback that accepts only
// an X509-SVID with the --server-spiffe-id, chained to the Workload API's
// bundle.
func (m *mode) verifyServer() func([][]byte, [][]*x509.Certificate) error {
	verify := tlsconfig.VerifyPeerCertificate(m.src, tlsconfig.AuthorizeID(m.server))
	return func(raw [][]byte, chains [][]*x509.Certificate) error {
		if err := verify(raw, chains); err != nil {
			return &fix.Error{Step: "tls", What: fix.Textf("the database server's certificate is not trusted as %s: %v", m.server, err), Err: err, Credential: true,
				Fix: fix.Textf("check %v, or leave it out to verify the server against %v", fix.Flag("server-spiffe-id"), fix.Flag("ca"))}
		}
		return nil
	}
}

// hookServer replaces the host name and CA checks of tc with verify.
func hookServer(tc *tls.Config, verify func([][]byte, [][]*x509.Certificate) error) {
	if tc == nil {
		return
	}
	tc.InsecureSkipVerify = true // only the built-in checks: verify does the SPIFFE ones
	tc.VerifyPeerCertificate = verify
	tc.VerifyConnection = nil
}

// serialOf returns the SVID's serial number in hex, as the cert mode
// reports serials.
func serialOf(svid *x509svid.SVID) string { return svid.Certificates[0].SerialNumber.Text(16) }

// describe returns "serial=… expires=…" for events.
func describe(svid *x509svid.SVID) string {
	return fmt.Sprintf("serial=%s expires=%s", serialOf(svid), svid.Certificates[0].NotAfter.UTC().Format(time.RFC3339))
}
