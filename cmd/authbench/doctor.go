package main

import (
	"context"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
)

const doctorUsage = "doctor --auth MODE [connection and auth flags]"

// doctorTimeout bounds each network step (DNS, TCP, TLS) and the mode's
// checks as a whole get diagnoseTimeout.
const (
	doctorTimeout   = 5 * time.Second
	diagnoseTimeout = 2 * time.Minute
)

// runDoctor checks, step by step, what a connection with --auth needs and
// prints one line per step (ok, FAIL with the fix, or skip); it exits 1
// when a step failed. See docs/doctor.md.
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
	d := &doctor{c: &c, mode: m, timeout: *timeout, rep: &doctorReport{w: stdout}}
	d.run(ctx)
	return d.rep.result()
}

// doctor runs the steps for one auth mode and reports them.
type doctor struct {
	c       *connFlags
	mode    authmodes.Mode
	timeout time.Duration
	rep     *doctorReport
}

// run runs every step in order: the settings, the network path to the
// load balancer, the mode's own checks and a real login.
func (d *doctor) run(ctx context.Context) {
	cfg, ok := d.settings()
	if !ok {
		d.rep.add(authmodes.Skip("network", "needs step settings"), authmodes.Skip(d.c.auth, "needs step settings"),
			authmodes.Skip("login", "needs step settings"))
		return
	}
	env := d.network(ctx, cfg)
	d.modeChecks(ctx, cfg, env)
	d.rep.add(d.login(ctx, cfg))
}

// settings checks the connection flags and builds the pool config.
func (d *doctor) settings() (*pgxpool.Config, bool) {
	user, err := d.c.user(d.mode)
	if err != nil {
		d.rep.add(authmodes.FailErr("settings", err))
		return nil, false
	}
	cfg, err := d.c.conn.PoolConfig(user)
	if err != nil {
		d.rep.add(authmodes.FailErr("settings", err))
		return nil, false
	}
	shown := cfg.ConnConfig.User
	if d.c.conn.User == "" && authmodes.IssuesUser(d.mode) {
		shown = "" // the mode's credentials name the user
	}
	d.rep.add(authmodes.Pass("settings", describeSettings(cfg, shown, d.c.conn.SSLMode, d.c.conn.URL != "")))
	return cfg, true
}

// modeChecks runs the mode's own checks, when it has them.
func (d *doctor) modeChecks(ctx context.Context, cfg *pgxpool.Config, env authmodes.DiagnoseEnv) {
	dg, ok := d.mode.(authmodes.Diagnoser)
	if !ok {
		d.rep.add(authmodes.Skip(d.c.auth, "the mode has no step-by-step checks; the login step tests it"))
		return
	}
	dctx, cancel := context.WithTimeout(ctx, diagnoseTimeout)
	defer cancel()
	d.rep.add(dg.Diagnose(dctx, cfg.Copy(), env)...)
}
