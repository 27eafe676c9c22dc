package main

import (
	"context"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/doctor"
	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
)

// connFlags are the flags every command that talks to the database has:
// the connection settings, --auth and the selected auth mode's own flags.
type connFlags struct {
	conn     authmodes.Conn
	auth     string
	modes    map[string]authmodes.Mode
	lifetime struct{ max, jitter time.Duration }
}

// register adds the flags to fs; args, the command line, selects the mode
// whose flags are added (see addModeFlags).
func (c *connFlags) register(fs *pflag.FlagSet, args []string, stderr io.Writer) {
	c.conn.Flags(fs)
	fs.StringVar(&c.auth, "auth", authDefault(), "auth mode: "+strings.Join(authmodes.Names(), ", ")+" [$AUTHBENCH_AUTH]")
	c.modes = addModeFlags(fs, args, false, []string{authDefault()}, stderr)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// mode returns the chosen auth mode.
func (c *connFlags) mode() (authmodes.Mode, error) {
	meta, err := authmodes.Lookup(c.auth)
	if err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	if m := c.modes[c.auth]; m != nil {
		return m, nil
	}
	return meta.New(pflag.NewFlagSet(c.auth, pflag.ContinueOnError)), nil // not selected before parsing: its defaults
}

// user returns the SQL user: --user, or the mode's default.
func (c *connFlags) user(m authmodes.Mode) (string, error) {
	if c.conn.User != "" {
		return c.conn.User, nil
	}
	if u := m.DefaultUser(); u != "" {
		return u, nil
	}
	if c.conn.URL != "" || authmodes.IssuesUser(m) {
		return "", nil
	}
	return "", usagef("no SQL user for --auth %s: pass --user, or run `eval \"$(authbench stack env)\"` first", c.auth)
}

// pool is an open pool and what it took to open it.
type pool struct {
	*pgxpool.Pool
	mode   authmodes.Mode
	user   string
	server results.ServerInfo
}

// openPool configures the chosen mode, instruments the pool and proves the
// connection works with one round trip, turning a failure into one line
// with a hint.
func (c *connFlags) openPool(ctx context.Context, maxConns int, obs *results.Registry) (*pool, error) {
	m, err := c.mode()
	if err != nil {
		return nil, err
	}
	cfg, err := c.poolConfig(ctx, m, obs, obs)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(maxConns)
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		m.Close()
		return nil, err
	}
	pl, err := c.prove(ctx, p, cfg, m)
	if err != nil {
		p.Close()
		m.Close()
	}
	return pl, err
}

// poolConfig validates the connection flags, configures mode m on a new
// pool config (its events to events) and instruments it for obs.
func (c *connFlags) poolConfig(ctx context.Context, m authmodes.Mode, obs *results.Registry, events authmodes.EventSink) (*pgxpool.Config, error) {
	if err := c.conn.Validate(); err != nil { // before the user: a bad flag is the first thing to say
		return nil, usageErr(err)
	}
	user, err := c.user(m)
	if err != nil {
		return nil, err
	}
	cfg, err := c.conn.PoolConfig(user)
	if err != nil {
		return nil, usageErr(err)
	}
	if c.lifetime.max > 0 {
		cfg.MaxConnLifetime, cfg.MaxConnLifetimeJitter = c.lifetime.max, c.lifetime.jitter
	}
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	if err := m.Configure(ctx, cfg, authmodes.Env{Events: events, Phases: obs, Log: os.Stderr}); err != nil {
		return nil, err
	}
	driver.Instrument(cfg, obs)
	return cfg, nil
}

// prove acquires a connection of p (configured from cfg with mode m) and
// reads what the server is; a failure is one line with a hint.
func (c *connFlags) prove(ctx context.Context, p *pgxpool.Pool, cfg *pgxpool.Config, m authmodes.Mode) (*pool, error) {
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := p.Acquire(pingCtx)
	if err != nil {
		return nil, doctor.ConnectError(cfg, c.auth, err)
	}
	defer conn.Release()
	pc := conn.Conn().PgConn()
	info := results.ServerInfo{
		Version: pc.ParameterStatus("server_version"), TLS: c.conn.TLSMode(), TLSWeakened: c.conn.Weakened(),
	}
	if v := pc.ParameterStatus("crdb_version"); v != "" {
		info.CockroachDB, info.Version = true, v
	}
	if pv, ok := m.(authmodes.PeerVerifier); ok {
		info.Peer = pv.ServerPeer()
	}
	return &pool{Pool: p, mode: m, user: cfg.ConnConfig.User, server: info}, nil
}

func (p *pool) Close() {
	p.Pool.Close()
	p.mode.Close()
}

// redactedFlags returns every flag's value for summary.json, with secrets
// removed (passwords in URLs, anything named like a secret).
func redactedFlags(fs *pflag.FlagSet) map[string]string {
	out := map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Deprecated != "" {
			return // an old name: its value is under the new one
		}
		v := f.Value.String()
		name := f.Name
		switch {
		case strings.Contains(name, "token") && !strings.HasSuffix(name, "-file"),
			strings.Contains(name, "secret") && !strings.HasSuffix(name, "-file"),
			name == "password":
			if v != "" {
				v = "(redacted)"
			}
		case name == "url" && v != "":
			if u, err := url.Parse(v); err == nil {
				q := u.Query()
				if q.Has("password") {
					q.Set("password", "xxxxx")
					u.RawQuery = q.Encode()
				}
				v = u.Redacted()
			} else {
				v = "(unparsable, redacted)"
			}
		}
		out[name] = v
	})
	return out
}
