package authmodes

import (
	"bytes"
	"cmp"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Status is the outcome of one check of `authbench doctor`.
type Status int

// Outcomes of a check.
const (
	// StatusOK means the step was verified.
	StatusOK Status = iota
	// StatusFail means the step is broken; Check.Fix says what to do.
	StatusFail
	// StatusSkip means the step does not apply, or depends on one that
	// failed.
	StatusSkip
)

// String returns the word doctor prints for the status: ok, FAIL or skip.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusFail:
		return "FAIL"
	}
	return "skip"
}

// Check is one step of `authbench doctor`: what was verified, or what is
// wrong and how to fix it. No field may hold a secret (a password, token,
// secret_id or key material).
type Check struct {
	// Step names the step, e.g. "kdc" or "client-cert".
	Step string
	// Status is the outcome.
	Status Status
	// Detail says what was verified (ok), what is wrong (FAIL) or why the
	// step was skipped.
	Detail string
	// Fix says how to repair a failed step; "" when Detail already does.
	Fix string
}

// As returns c as the check of step.
func (c Check) As(step string) Check {
	c.Step = step
	return c
}

// Pass returns a passed check.
func Pass(step, detail string) Check { return Check{Step: step, Status: StatusOK, Detail: detail} }

// Fail returns a failed check with its fix.
func Fail(step, detail, fix string) Check {
	return Check{Step: step, Status: StatusFail, Detail: detail, Fix: fix}
}

// Skip returns a skipped check and why it was skipped.
func Skip(step, why string) Check { return Check{Step: step, Status: StatusSkip, Detail: why} }

// FailErr returns a failed check from a one-line error that says what is
// wrong and, after a colon, what to do ("keytab x: no such file: check
// --keytab"); the advice becomes the Fix. An error without recognisable
// advice is all Detail.
func FailErr(step string, err error) Check {
	detail, fix := splitFix(strings.Join(strings.Fields(err.Error()), " "))
	return Fail(step, detail, fix)
}

// advice are the words that start the advice part of the modes' one-line
// errors ("…: check --keytab"); "use of" (as in "use of closed network
// connection") is not advice.
var advice = []string{"add ", "ask ", "check ", "create ", "export ", "fix ", "give ", "initialize ", "is it ", "is the ",
	"log in", "pass ", "point ", "raise ", "register ", "remove ", "revoke ", "run ", "set ", "start ", "synchronise ",
	"turn ", "unseal ", "use "}

// splitFix splits msg at the last ": <advice>".
func splitFix(msg string) (detail, fix string) {
	best := -1
	for _, a := range advice {
		if i := strings.LastIndex(msg, ": "+a); i > best && !strings.HasPrefix(msg[i+2:], "use of ") {
			best = i
		}
	}
	if best <= 0 {
		return msg, ""
	}
	return msg[:best], msg[best+2:]
}

// DiagnoseEnv is what `authbench doctor` learnt before the mode's checks.
type DiagnoseEnv struct {
	// ClientCAs are the distinguished names (DER) of the CAs the server
	// accepts client certificates from, as its TLS CertificateRequest
	// listed them; nil when unknown (no TLS, or the server sent none).
	ClientCAs [][]byte
}

// Diagnoser is implemented by modes that can check, step by step, what a
// connection in the mode needs (`authbench doctor`). Diagnose gets its own
// copy of the pool config (host, user, TLS settings), keeps nothing
// running after it returns, and lists every step of the mode in a fixed
// order, skipping those that depend on a failed one.
type Diagnoser interface {
	Diagnose(ctx context.Context, cfg *pgxpool.Config, env DiagnoseEnv) []Check
}

// Sequence collects the checks of steps that depend on each other: once
// one has failed, the following ones are skipped, naming it.
type Sequence struct {
	// Checks are the checks so far, in order.
	Checks []Check
	broken string
}

// Run runs f for step unless an earlier step of the sequence failed, and
// reports whether the step passed; f's Check.Step is set to step.
func (s *Sequence) Run(step string, f func() Check) bool {
	if s.broken != "" {
		s.Checks = append(s.Checks, Skip(step, "needs step "+s.broken))
		return false
	}
	c := f()
	c.Step = step
	s.Add(c)
	return c.Status == StatusOK
}

// Add appends c; a failed c breaks the sequence.
func (s *Sequence) Add(c Check) {
	s.Checks = append(s.Checks, c)
	if c.Status == StatusFail && s.broken == "" {
		s.broken = c.Step
	}
}

// SkipRest adds steps as skipped, naming the step that failed (or, when
// none did, saying so).
func (s *Sequence) SkipRest(steps ...string) {
	why := "needs step " + s.broken
	if s.broken == "" {
		why = "not checked"
	}
	for _, step := range steps {
		s.Checks = append(s.Checks, Skip(step, why))
	}
}

// Broken reports whether a step of the sequence failed.
func (s *Sequence) Broken() bool { return s.broken != "" }

// When describes t relative to now for doctor's lines, e.g.
// "2026-01-02T15:04:05Z, in 3d4h" or "2026-01-02T15:04:05Z, 2h5m ago".
func When(t, now time.Time) string {
	d := t.Sub(now)
	if d < 0 {
		return t.UTC().Format(time.RFC3339) + ", " + roughly(-d) + " ago"
	}
	return t.UTC().Format(time.RFC3339) + ", in " + roughly(d)
}

// roughly formats d in days, hours, minutes or seconds, whichever fits.
func roughly(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%ds", d/time.Minute, d%time.Minute/time.Second)
	}
	return d.Round(time.Second).String()
}

// CheckIssuer checks that cert's issuer is among the CAs the server said
// it accepts client certificates from (DER distinguished names); what
// names the certificate in messages ("client certificate", "SVID").
func CheckIssuer(cert *x509.Certificate, accepted [][]byte, what string) Check {
	if len(accepted) == 0 {
		return Skip("", "unknown which CAs the server accepts client certificates from (the tls step did not finish, or the server listed none)")
	}
	var names []string
	for _, dn := range accepted {
		if bytes.Equal(dn, cert.RawIssuer) {
			return Pass("", fmt.Sprintf("the server accepts client certificates from its issuer %s", issuerName(cert)))
		}
		names = append(names, cmp.Or(dnString(dn), "(empty subject)"))
	}
	return Fail("", fmt.Sprintf("the %s's issuer %s is not among the CAs the server accepts client certificates from (%s)",
		what, issuerName(cert), strings.Join(names, "; ")),
		"use a certificate from one of those CAs, or add its CA to the server's client CAs (PostgreSQL: ssl_ca_file)")
}

// dnString renders a DER distinguished name, or "?" when it does not parse.
func dnString(der []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return "?"
	}
	var n pkix.Name
	n.FillFromRDNSequence(&seq)
	return n.String()
}

// issuerName names a certificate's issuer: its CN, else its whole DN.
func issuerName(cert *x509.Certificate) string {
	switch {
	case cert.Issuer.CommonName != "":
		return "CN=" + cert.Issuer.CommonName
	case cert.Issuer.String() != "":
		return cert.Issuer.String()
	}
	return "(empty subject)"
}
