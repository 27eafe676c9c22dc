// Package doctor checks, step by step, what a connection in an auth mode
// needs: the network path to the load balancer (DNS, TCP, the server's
// certificate), the mode's own steps (a mode contributes them by
// implementing Diagnoser) and a real login. Each step is a Check that says
// what was verified, or what is wrong and how to fix it; the fixes refer
// to settings and commands through package fix, which the CLI renders.
package doctor

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/fix"
)

// diagnoseTimeout bounds a mode's checks as a whole.
const diagnoseTimeout = 2 * time.Minute

// Env is what the doctor learnt before the mode's checks.
type Env struct {
	// ClientCAs are the distinguished names (DER) of the CAs the server
	// accepts client certificates from, as its TLS CertificateRequest
	// listed them; nil when unknown (no TLS, or the server sent none).
	ClientCAs [][]byte
}

// Diagnoser is implemented by modes that can check, step by step, what a
// connection in the mode needs. Diagnose gets its own copy of the pool
// config (host, user, TLS settings), keeps nothing running after it
// returns, and lists every step of the mode in a fixed order, skipping
// those that depend on a failed one.
type Diagnoser interface {
	Diagnose(ctx context.Context, cfg *pgxpool.Config, env Env) []Check
}

// Doctor runs the steps after the settings for one auth mode.
type Doctor struct {
	// Mode is the mode checked; ModeName is its registered name.
	Mode     authmodes.Mode
	ModeName string
	// Timeout bounds each network step (DNS, TCP, TLS).
	Timeout time.Duration
	// CA says where the CA that verifies the server came from, for
	// messages (e.g. the ca setting and its path).
	CA fix.Text
	// Report receives each check as soon as it is known.
	Report func(Check)

	failed []string
}

// Run runs every step in order on cfg (host, user, TLS settings): the
// network path to the load balancer, the mode's own checks and a real
// login, which is skipped when an earlier step failed.
func (d *Doctor) Run(ctx context.Context, cfg *pgxpool.Config) {
	env := d.network(ctx, cfg)
	d.modeChecks(ctx, cfg, env)
	d.add(d.login(ctx, cfg))
}

// add reports checks and remembers the failed steps.
func (d *Doctor) add(checks ...Check) {
	for _, c := range checks {
		if c.Status == StatusFail {
			d.failed = append(d.failed, c.Step)
		}
		if d.Report != nil {
			d.Report(c)
		}
	}
}

// modeChecks runs the mode's own checks, when it has them.
func (d *Doctor) modeChecks(ctx context.Context, cfg *pgxpool.Config, env Env) {
	dg, ok := d.Mode.(Diagnoser)
	if !ok {
		d.add(Skip(d.ModeName, "the mode has no step-by-step checks; the login step tests it"))
		return
	}
	dctx, cancel := context.WithTimeout(ctx, diagnoseTimeout)
	defer cancel()
	d.add(dg.Diagnose(dctx, cfg.Copy(), env)...)
}
