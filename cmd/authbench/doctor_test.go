package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/doctor"
	"github.com/authbench/authbench/fix"
	"github.com/authbench/authbench/stack/stacktest"
)

func TestFormatCheck(t *testing.T) {
	for _, tc := range []struct {
		c    doctor.Check
		want string
	}{
		{doctor.Pass("dns", "localhost resolves to 127.0.0.1"), "ok   dns: localhost resolves to 127.0.0.1"},
		{doctor.Fail("spn", fix.Textf("service principal x is not known"), fix.Textf("check %v", fix.Flag("krbsrvname"))),
			"FAIL spn: service principal x is not known — check --krbsrvname"},
		{doctor.Fail("tcp", fix.Textf("refused"), fix.Textf("run `%v`", fix.Command("stack up"))), "FAIL tcp: refused — run `authbench stack up`"},
		{doctor.Fail("tls", fix.Textf("no certificate"), fix.Text{}), "FAIL tls: no certificate"},
		{doctor.Skip("login", "fix the failed step(s) first: spn"), "skip login: fix the failed step(s) first: spn"},
		{doctor.Check{Step: "kdc", Status: doctor.StatusFail, Detail: fix.Textf("line one\n  line two"), Fix: fix.Textf("do\nthis")}, "FAIL kdc: line one line two — do this"},
		{doctor.Check{Step: "x", Status: doctor.StatusSkip, Detail: fix.Textf("why"), Fix: fix.Textf("ignored")}, "skip x: why"},
	} {
		if got := formatCheck(tc.c); got != tc.want {
			t.Errorf("formatCheck(%+v)\n got %q\nwant %q", tc.c, got, tc.want)
		}
	}
}

func TestReportResult(t *testing.T) {
	var out bytes.Buffer
	r := &doctorReport{w: &out}
	r.add(doctor.Pass("dns", "ok"), doctor.Skip("tls", "off"))
	if err := r.result(); err != nil {
		t.Errorf("no failure, got %v", err)
	}
	r.add(doctor.Fail("kdc", fix.Textf("down"), fix.Textf("start it")), doctor.Fail("login", fix.Textf("refused"), fix.Text{}))
	err := r.result()
	if err == nil || !strings.Contains(err.Error(), "2 of 4 steps failed (kdc, login)") {
		t.Errorf("result = %v, want 2 of 4 steps failed (kdc, login)", err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 4 {
		t.Errorf("printed %d lines, want one per check:\n%s", len(lines), out.String())
	}
}

// TestDoctorStepOrder runs the command's steps with a fake mode against a
// closed port: the settings come first and the package's steps follow in
// their fixed order, each printed on its own line.
func TestDoctorStepOrder(t *testing.T) {
	mode := &fakeMode{checks: []doctor.Check{doctor.Pass("fake", "fine")}}
	checks, err := runFakeDoctor(t, mode, "--host", "127.0.0.1", "--port", strconv.Itoa(stacktest.ClosedPort(t)), "--sslmode", "disable", "--insecure")
	assertSteps(t, checks, "ok settings", "ok dns", "FAIL tcp", "skip tls", "ok fake", "skip login")
	if err == nil || !strings.Contains(err.Error(), "(tcp)") {
		t.Errorf("result %v, want the failed step tcp named", err)
	}
}

// TestDoctorNetworkFailures checks settings that cannot work skip every
// later step, the fix naming the setting to change.
func TestDoctorNetworkFailures(t *testing.T) {
	mode := &fakeMode{checks: []doctor.Check{doctor.Pass("fake", "fine")}}
	checks, _ := runFakeDoctor(t, mode, "--host", "127.0.0.1", "--port", strconv.Itoa(stacktest.ClosedPort(t)), "--ca", "")
	assertSteps(t, checks, "FAIL settings", "skip network", "skip fake", "skip login")
	if !checks[0].Fix.Refers(fix.Flag("ca")) {
		t.Errorf("settings failure %q: the fix does not name the ca setting", formatCheck(checks[0]))
	}
}

// runFakeDoctor runs the doctor command's steps with mode and the flags
// in args and returns the checks it printed.
func runFakeDoctor(t *testing.T, mode *fakeMode, args ...string) ([]doctor.Check, error) {
	t.Helper()
	fs := newFlagSet("doctor")
	var c connFlags
	c.register(fs, nil, io.Discard)
	if err := fs.Parse(append([]string{"--auth", "fake"}, args...)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep := &doctorReport{w: &out}
	runDoctorSteps(context.Background(), &c, mode, 5*time.Second, rep)
	if lines := strings.Count(out.String(), "\n"); lines != len(rep.checks) {
		t.Errorf("printed %d lines for %d checks:\n%s", lines, len(rep.checks), out.String())
	}
	return rep.checks, rep.result()
}

// assertSteps checks the steps, given as "status step", in order.
func assertSteps(t *testing.T, checks []doctor.Check, want ...string) {
	t.Helper()
	var got []string
	for _, c := range checks {
		got = append(got, c.Status.String()+" "+c.Step)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("steps\n got %s\nwant %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
}

// fakeMode is a mode whose checks are given.
type fakeMode struct {
	checks []doctor.Check
}

func (m *fakeMode) DefaultUser() string { return "bench" }

func (m *fakeMode) Configure(context.Context, *pgxpool.Config, authmodes.Env) error {
	return errors.New("fake mode: no login")
}

func (m *fakeMode) Settings() map[string]string { return nil }

func (m *fakeMode) Close() error { return nil }

func (m *fakeMode) Diagnose(context.Context, *pgxpool.Config, doctor.Env) []doctor.Check {
	return m.checks
}

// TestLoginFailureKeepsConnectErrorsHint checks the login step's line is
// the connection error's, its fix rendered as this command line's flags.
func TestLoginFailureKeepsConnectErrorsHint(t *testing.T) {
	cfg, err := pgxpool.ParseConfig("postgresql://bench@db.example.com:26257/authbench")
	if err != nil {
		t.Fatal(err)
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	c := doctor.FromErr("login", doctor.ConnectError(cfg, "password", refused))
	if c.Step != "login" || !c.Fix.Refers(fix.Flag("host")) || !c.Fix.Refers(fix.Command("stack up")) {
		t.Errorf("login failure %+v: want step login with a fix naming --host and stack up", c)
	}
	line := formatCheck(c)
	want := "FAIL login: cannot connect to db.example.com:26257 as bench: dial tcp: connect: connection refused — is the database (or load balancer) up? check --host/--port"
	if !strings.HasPrefix(line, want) {
		t.Errorf("login failure\n got %q\nwant %q…", line, want)
	}
}
