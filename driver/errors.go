package driver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/authbench/authbench/results"
)

// IsRetryable reports whether err is a serialization failure (40001) or a
// deadlock (40P01): the transaction can be run again as a whole.
func IsRetryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return false
}

// Classify sorts an op's error into a results.Class.
func Classify(err error) results.Class {
	if err == nil {
		return results.ClassNone
	}
	if IsRetryable(err) {
		return results.ClassRetryable
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return classifySQLState(pgErr.Code)
	}
	if isAuthError(err) {
		return results.ClassAuth
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return results.ClassTimeout
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return results.ClassTimeout
	}
	if isConnectionError(err) {
		return results.ClassConnection
	}
	return results.ClassOther
}

func classifySQLState(code string) results.Class {
	switch {
	case strings.HasPrefix(code, "28"): // invalid authorization specification
		return results.ClassAuth
	case strings.HasPrefix(code, "08"), // connection exception
		code == "57P01", code == "57P02", code == "57P03", // admin/crash shutdown, cannot connect now
		code == "53300": // too many connections
		return results.ClassConnection
	case code == "57014": // query_canceled (statement_timeout)
		return results.ClassTimeout
	}
	return results.ClassOther
}

// isAuthError recognises TLS trust failures, refused client certificates
// and errors that say they are credential failures: credential problems
// rather than network ones.
func isAuthError(err error) bool {
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var alert tls.AlertError
	if errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &certInvalid) {
		return true
	}
	if errors.As(err, &alert) {
		return true
	}
	// Over TCP a TLS alert from the server (a refused client certificate)
	// arrives as crypto/tls's *net.OpError with Op "remote error".
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "remote error" {
		return true
	}
	var cf credentialFailure
	return errors.As(err, &cf) && cf.CredentialFailure()
}

// credentialFailure is implemented by errors that know whether they are
// a credential problem (no ticket, no SVID, Vault refused, an unreadable
// certificate), the way pgconn's errors answer SafeToRetry; fix.Error is
// one.
type credentialFailure interface {
	error
	CredentialFailure() bool
}

func isConnectionError(err error) bool {
	if errors.Is(err, puddle.ErrClosedPool) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "unexpected EOF") ||
		strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe")
}

// shouldRetry reports whether a failed attempt may be run again: retryable
// SQL errors always; connection errors too, because every workload fixes its
// ids before the first attempt, so a retry after an ambiguous commit cannot
// apply an op twice.
func shouldRetry(err error) bool {
	c := Classify(err)
	return c == results.ClassRetryable || c == results.ClassConnection
}
