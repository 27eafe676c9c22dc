package main

import (
	"context"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/doctor"
	"github.com/authbench/authbench/fix"
)

const doctorUsage = "doctor --auth MODE [connection and auth flags]"

// doctorTimeout bounds each network step (DNS, TCP, TLS).
const doctorTimeout = 5 * time.Second

// runDoctor checks, step by step, what a connection with --auth needs and
// prints one line per step (ok, FAIL with the fix, or skip); it exits 1
// when a step failed. The steps are package doctor's; see docs/doctor.md.
func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("doctor")
	var c connFlags
	c.register(fs, args, stderr)
	timeout := fs.Duration("timeout", doctorTimeout, "how long each network step (DNS, TCP, TLS) may take")
	if err := parseFlags(fs, doctorUsage, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	if *timeout <= 0 {
		return usagef("--timeout must be positive, got %s", *timeout)
	}
	m, err := c.mode()
	if err != nil {
		return err
	}
	rep := &doctorReport{w: stdout}
	runDoctorSteps(ctx, &c, m, *timeout, rep)
	return rep.result()
}

// runDoctorSteps checks the settings, then runs the doctor's steps,
// printing each check as it comes.
func runDoctorSteps(ctx context.Context, c *connFlags, m authmodes.Mode, timeout time.Duration, rep *doctorReport) {
	cfg, ok := doctorSettings(c, m, rep)
	if !ok {
		rep.add(doctor.Skip("network", "needs step settings"), doctor.Skip(c.auth, "needs step settings"),
			doctor.Skip("login", "needs step settings"))
		return
	}
	d := &doctor.Doctor{Mode: m, ModeName: c.auth, Timeout: timeout, CA: caName(c), Report: func(ch doctor.Check) { rep.add(ch) }}
	d.Run(ctx, cfg)
}

// doctorSettings checks the connection flags and builds the pool config.
func doctorSettings(c *connFlags, m authmodes.Mode, rep *doctorReport) (*pgxpool.Config, bool) {
	user, err := c.user(m)
	if err != nil {
		rep.add(doctor.FromErr("settings", err))
		return nil, false
	}
	cfg, err := c.conn.PoolConfig(user)
	if err != nil {
		rep.add(doctor.FromErr("settings", err))
		return nil, false
	}
	shown := cfg.ConnConfig.User
	if c.conn.User == "" && authmodes.IssuesUser(m) {
		shown = "" // the mode's credentials name the user
	}
	rep.add(doctor.Pass("settings", "%s", describeSettings(cfg, shown, c.conn.SSLMode, c.conn.URL != "")))
	return cfg, true
}

// caName says where the CA that verifies the server comes from.
func caName(c *connFlags) fix.Text {
	if c.conn.URL == "" && c.conn.CAFile != "" {
		return fix.Textf("%v %s", fix.Flag("ca"), c.conn.CAFile)
	}
	return fix.Textf("the URL's sslrootcert")
}
