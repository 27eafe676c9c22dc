package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/doctor"
)

// doctorReport prints each check as one line as soon as it is known and keeps
// them for the verdict.
type doctorReport struct {
	w      io.Writer
	checks []doctor.Check
}

// add records and prints checks.
func (r *doctorReport) add(checks ...doctor.Check) {
	for _, c := range checks {
		r.checks = append(r.checks, c)
		fmt.Fprintln(r.w, formatCheck(c))
	}
}

// formatCheck renders a check as `ok   step: detail`, `FAIL step: what —
// fix` or `skip step: why`, on one line.
func formatCheck(c doctor.Check) string {
	line := fmt.Sprintf("%-4s %s: %s", c.Status, c.Step, oneLine(c.Detail.Render(cliRefs)))
	if fixText := oneLine(c.Fix.Render(cliRefs)); c.Status == doctor.StatusFail && fixText != "" {
		line += " — " + fixText
	}
	return line
}

// failed returns the names of the failed steps, in order.
func (r *doctorReport) failed() []string {
	var out []string
	for _, c := range r.checks {
		if c.Status == doctor.StatusFail {
			out = append(out, c.Step)
		}
	}
	return out
}

// result is nil when no step failed, else an error naming the failed
// steps (exit code 1).
func (r *doctorReport) result() error {
	f := r.failed()
	if len(f) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d steps failed (%s): fix them as the FAIL lines say and run doctor again",
		len(f), len(r.checks), strings.Join(f, ", "))
}

// describeSettings says where doctor connects and how the server is
// verified.
func describeSettings(cfg *pgxpool.Config, user, sslmode string, fromURL bool) string {
	cc := cfg.ConnConfig
	src := "flags"
	if fromURL {
		src = "--url"
	}
	tlsMode := "sslmode " + sslmode
	switch {
	case fromURL && cc.TLSConfig == nil:
		tlsMode = "no TLS"
	case fromURL:
		tlsMode = "TLS as the URL says"
	}
	if user == "" {
		user = "(from the credentials)"
	}
	return fmt.Sprintf("host %s, port %d, database %s, user %s, %s (from %s)", cc.Host, cc.Port, cc.Database, user, tlsMode, src)
}
