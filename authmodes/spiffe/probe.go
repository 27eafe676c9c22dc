package spiffe

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/fix"
)

// probeTimeout bounds the probe connection.
const probeTimeout = 15 * time.Second

// probe opens one connection with the SVID so that an SVID the database
// refuses, or a server the mode does not trust, fails at start with a line
// that says which and what to do. Failures it cannot explain (the database
// is down, …) are left to the caller's first pooled connection.
func (m *mode) probe(ctx context.Context, cfg *pgxpool.Config) error {
	cc := cfg.ConnConfig.Copy()
	if _, err := m.present(&cc.Config); err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := pgconn.ConnectConfig(pctx, &cc.Config)
	if err == nil {
		return conn.Close(ctx)
	}
	return m.explain(err, cc.User)
}

// explain turns a refused connection into one line with the fix, or nil.
func (m *mode) explain(err error, user string) error {
	var pgErr *pgconn.PgError
	var cred *fix.Error
	var alert *net.OpError
	msg := oneLine(err.Error())
	switch {
	case errors.As(err, &cred):
		return cred
	case errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "28"):
		return &fix.Error{Step: "login", What: fix.Textf("the database refused the SVID %s as user %q: %s (SQLSTATE %s); its CN must be a database user with a cert line in pg_hba.conf",
			m.spiffeID(), user, pgErr.Message, pgErr.Code), Err: err, Credential: true,
			Fix: fix.Textf("create the user, or register the workload with -dns <sql user>")}
	case isX509(err):
		return &fix.Error{Step: "tls", What: fix.Textf("the database server's certificate is not trusted: %s", x509Part(msg)), Err: err, Credential: true,
			Fix: fix.Textf("check %v and %v, or pass %v when the server has an SVID", fix.Flag("ca"), fix.Flag("host"), fix.Flag("server-spiffe-id"))}
	case errors.As(err, &alert) && alert.Op == "remote error": // crypto/tls's form of the server's alert
		return &fix.Error{Step: "login", What: fix.Textf("the database refused the SVID %s in the TLS handshake (%s)", m.spiffeID(), oneLine(alert.Error())),
			Err: err, Credential: true, Fix: fix.Textf("add the SPIFFE trust bundle to the CAs it trusts for clients (PostgreSQL: ssl_ca_file; see docs/spiffe.md)")}
	}
	return nil
}

// isX509 reports a server certificate that does not verify.
func isX509(err error) bool {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// x509Part returns msg from its "x509:" part on, without pgx's preamble.
func x509Part(msg string) string {
	if i := strings.Index(msg, "x509:"); i >= 0 {
		return msg[i:]
	}
	return msg
}

// spiffeID returns the SPIFFE ID of the SVID in use.
func (m *mode) spiffeID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id
}
