package spiffe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
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
	var cred *authmodes.CredentialError
	msg := oneLine(err.Error())
	switch {
	case errors.As(err, &cred):
		return cred
	case errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "28"):
		return &authmodes.CredentialError{Err: fmt.Errorf("the database refused the SVID %s as user %q: %s (SQLSTATE %s); its CN must be a database user with a cert line in pg_hba.conf: create the user, or register the workload with -dns <sql user>",
			m.spiffeID(), user, pgErr.Message, pgErr.Code)}
	case isX509(err):
		return &authmodes.CredentialError{Err: fmt.Errorf("the database server's certificate is not trusted: %s (check --ca and --host, or pass --server-spiffe-id when the server has an SVID)", x509Part(msg))}
	case strings.Contains(msg, "remote error: tls:"):
		return &authmodes.CredentialError{Err: fmt.Errorf("the database refused the SVID %s in the TLS handshake (%s): add the SPIFFE trust bundle to the CAs it trusts for clients (PostgreSQL: ssl_ca_file; see docs/spiffe.md)",
			m.spiffeID(), msg[strings.Index(msg, "remote error: tls:"):])}
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
