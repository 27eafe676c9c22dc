package doctor

import (
	"fmt"
	"time"

	"github.com/authbench/authbench/fix"
)

// Status is the outcome of one check.
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

// String returns the word the doctor prints for the status: ok, FAIL or
// skip.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusFail:
		return "FAIL"
	}
	return "skip"
}

// Check is one step of the doctor: what was verified, or what is wrong
// and how to fix it. No field may hold a secret (a password, token,
// secret_id or key material).
type Check struct {
	// Step names the step, e.g. "kdc" or "client-cert".
	Step string
	// Status is the outcome.
	Status Status
	// Detail says what was verified (ok), what is wrong (FAIL) or why the
	// step was skipped.
	Detail fix.Text
	// Fix says how to repair a failed step; zero when Detail already does.
	Fix fix.Text
}

// As returns c as the check of step.
func (c Check) As(step string) Check {
	c.Step = step
	return c
}

// Pass returns a passed check; its detail is formatted as by fix.Textf.
func Pass(step, format string, args ...any) Check {
	return Check{Step: step, Status: StatusOK, Detail: fix.Textf(format, args...)}
}

// Fail returns a failed check with its fix.
func Fail(step string, detail, repair fix.Text) Check {
	return Check{Step: step, Status: StatusFail, Detail: detail, Fix: repair}
}

// Skip returns a skipped check and why it was skipped, formatted as by
// fix.Textf.
func Skip(step, format string, args ...any) Check {
	return Check{Step: step, Status: StatusSkip, Detail: fix.Textf(format, args...)}
}

// FromErr returns a failed check from err: the *fix.Error in its chain
// gives the detail and the fix; any other error is all detail.
func FromErr(step string, err error) Check {
	detail, repair := fix.Split(err)
	return Fail(step, detail, repair)
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
		s.Checks = append(s.Checks, Skip(step, "needs step %s", s.broken))
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
		s.Checks = append(s.Checks, Skip(step, "%s", why))
	}
}

// Broken reports whether a step of the sequence failed.
func (s *Sequence) Broken() bool { return s.broken != "" }

// When describes t relative to now for the doctor's lines, e.g.
// "2026-01-02T15:04:05Z, in 3d4h" or "2026-01-02T15:04:05Z, 2h5m ago".
func When(t, now time.Time) string {
	d := t.Sub(now)
	if d < 0 {
		return stamp(t) + ", " + roughly(-d) + " ago"
	}
	return stamp(t) + ", in " + roughly(d)
}

// stamp formats a time for the doctor's lines.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

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
