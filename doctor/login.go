package doctor

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/fix"
)

// loginTimeout bounds the real login: the mode's set-up (a Kerberos login,
// an SVID, Vault credentials) and one connection.
const loginTimeout = 45 * time.Second

// login configures the mode as a run would and runs SELECT 1 through the
// load balancer; it is skipped when an earlier step failed.
func (d *Doctor) login(ctx context.Context, cfg *pgxpool.Config) Check {
	if len(d.failed) > 0 {
		return Skip("login", "fix the failed step(s) first: %s", strings.Join(d.failed, ", "))
	}
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	cfg.MaxConns = 1
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	if err := d.Mode.Configure(ctx, cfg, authmodes.Env{Events: nopSink{}, Phases: nopSink{}, Log: io.Discard}); err != nil {
		return FromErr("login", err) // a failed Configure cleans up after itself
	}
	defer d.Mode.Close() // after the pool: Vault revokes the lease on Close
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return FromErr("login", err)
	}
	defer p.Close()
	return d.selectOne(ctx, p, cfg)
}

// selectOne runs SELECT 1 on one pooled connection.
func (d *Doctor) selectOne(ctx context.Context, p *pgxpool.Pool, cfg *pgxpool.Config) Check {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return FromErr("login", ConnectError(cfg, d.ModeName, err))
	}
	defer conn.Release()
	var one int
	var user string
	if err := conn.QueryRow(ctx, "SELECT 1, current_user").Scan(&one, &user); err != nil {
		return FromErr("login", ConnectError(cfg, d.ModeName, err))
	}
	pc := conn.Conn().PgConn()
	server := "PostgreSQL " + pc.ParameterStatus("server_version")
	if v := pc.ParameterStatus("crdb_version"); v != "" {
		server = v
	}
	return Pass("login", "SELECT 1 returned %d through %s:%d as user %s with %v %s (%s)",
		one, cfg.ConnConfig.Host, cfg.ConnConfig.Port, user, fix.Flag("auth"), d.ModeName, server)
}

// nopSink discards the mode's events and phases: the doctor measures
// nothing.
type nopSink struct{}

// Event discards a credential event.
func (nopSink) Event(kind, source, detail string, rotation bool) {}

// Phase discards a handshake phase.
func (nopSink) Phase(name string, d time.Duration) {}
