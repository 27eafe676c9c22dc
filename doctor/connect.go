package doctor

import (
	"crypto/x509"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/fix"
	"github.com/authbench/authbench/results"
)

// ConnectError explains a failed first connection to cfg in mode: what
// failed, with err kept as the cause, and a fix chosen by the driver's
// classification of err.
func ConnectError(cfg *pgxpool.Config, mode string, err error) *fix.Error {
	cc := cfg.ConnConfig
	return &fix.Error{
		Step:       "connect",
		What:       fix.Textf("cannot connect to %s:%d as %s: %v", cc.Host, cc.Port, cc.User, connectCause{err}),
		Err:        err,
		Fix:        connectFix(err, mode, cc.User),
		Credential: driver.Classify(err) == results.ClassAuth,
	}
}

// connectFix says how to repair a failed connection.
func connectFix(err error, mode, user string) fix.Text {
	var pgErr *pgconn.PgError
	switch {
	case untrustedServer(err):
		return fix.Textf("the server's certificate does not verify against %v: check %v and %v", fix.Flag("ca"), fix.Flag("ca"), fix.Flag("host"))
	case errors.As(err, &pgErr) && pgErr.Code == "3D000": // invalid_catalog_name
		return fix.Textf("the database does not exist: check %v", fix.Flag("database"))
	}
	switch driver.Classify(err) {
	case results.ClassConnection, results.ClassTimeout:
		return fix.Textf("is the database (or load balancer) up? check %v/%v, or run `%v`", fix.Flag("host"), fix.Flag("port"), fix.Command("stack up"))
	case results.ClassAuth:
		return fix.Textf("the server refused the credentials of %v %s for user %s", fix.Flag("auth"), mode, user)
	}
	return fix.Textf("check the connection settings")
}

// untrustedServer reports whether the server's certificate failed to
// verify: an unknown CA, a name it does not hold, or an invalid one.
func untrustedServer(err error) bool {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// connectCause renders a connection error without pgx's preamble.
type connectCause struct{ err error }

// RenderText renders the cause on one line with r.
func (c connectCause) RenderText(r fix.Renderer) string {
	return stripConnectPrefix(oneLine(fix.Render(c.err, r)))
}

// stripConnectPrefix removes pgx's "failed to connect to `…`:" preamble,
// which repeats what ConnectError already says.
func stripConnectPrefix(msg string) string {
	if i := strings.Index(msg, "`: "); strings.HasPrefix(msg, "failed to connect to") && i > 0 {
		msg = msg[i+3:]
	}
	// The TLS handshake runs in the connection tracer's hook; its name means
	// nothing to a user.
	return strings.Replace(msg, "AfterNetConnect failed: ", "", 1)
}
