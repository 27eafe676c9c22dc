package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
)

// loginTimeout bounds the real login: the mode's set-up (a Kerberos login,
// an SVID, Vault credentials) and one connection.
const loginTimeout = 45 * time.Second

// login configures the mode as `run` would and runs SELECT 1 through the
// load balancer; it is skipped when an earlier step failed.
func (d *doctor) login(ctx context.Context, cfg *pgxpool.Config) authmodes.Check {
	if f := d.rep.failed(); len(f) > 0 {
		return authmodes.Skip("login", "fix the failed step(s) first: "+strings.Join(f, ", "))
	}
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	cfg.MaxConns = 1
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	if err := d.mode.Configure(ctx, cfg, authmodes.Env{Events: nopSink{}, Phases: nopSink{}, Log: io.Discard}); err != nil {
		return authmodes.FailErr("login", err) // a failed Configure cleans up after itself, as openPool relies on
	}
	defer d.mode.Close() // after the pool: Vault revokes the lease on Close
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return authmodes.FailErr("login", err)
	}
	defer p.Close()
	return d.selectOne(ctx, p, cfg)
}

// selectOne runs SELECT 1 on one pooled connection.
func (d *doctor) selectOne(ctx context.Context, p *pgxpool.Pool, cfg *pgxpool.Config) authmodes.Check {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return d.loginFailure(cfg, err)
	}
	defer conn.Release()
	var one int
	var user string
	if err := conn.QueryRow(ctx, "SELECT 1, current_user").Scan(&one, &user); err != nil {
		return d.loginFailure(cfg, err)
	}
	pc := conn.Conn().PgConn()
	server := "PostgreSQL " + pc.ParameterStatus("server_version")
	if v := pc.ParameterStatus("crdb_version"); v != "" {
		server = v
	}
	return authmodes.Pass("login", fmt.Sprintf("SELECT 1 returned %d through %s:%d as user %s with --auth %s (%s)",
		one, cfg.ConnConfig.Host, cfg.ConnConfig.Port, user, d.c.auth, server))
}

// loginFailure turns a failed connection into connectError's line, with
// its hint as the fix.
func (d *doctor) loginFailure(cfg *pgxpool.Config, err error) authmodes.Check {
	full := d.c.connectError(cfg, err).Error()
	cc := cfg.ConnConfig
	what := fmt.Sprintf("cannot connect to %s:%d as %s: %s", cc.Host, cc.Port, cc.User, stripConnectPrefix(oneLine(err.Error())))
	if hint, ok := strings.CutPrefix(full, what+" ("); ok {
		return authmodes.Fail("login", what, strings.TrimSuffix(hint, ")"))
	}
	return authmodes.Fail("login", full, "")
}

// nopSink discards the mode's events and phases: doctor measures nothing.
type nopSink struct{}

// Event discards a credential event.
func (nopSink) Event(kind, source, detail string, rotation bool) {}

// Phase discards a handshake phase.
func (nopSink) Phase(name string, d time.Duration) {}
