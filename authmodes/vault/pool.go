package vault

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"

	"github.com/authbench/authbench/fix"
)

// tagKey is where a connection's credential set is kept in its
// pgconn.CustomData.
const tagKey = "authbench/vault"

// connTag is what the mode knows about one connection.
type connTag struct {
	set    *credSet
	jitter float64 // in [0,1): where in the retirement span it is retired
}

// hook installs the mode in the pool's config, keeping hooks set before:
// BeforeConnect puts the current credentials into each new connection and
// PrepareConn retires connections of superseded or dead credentials.
func (k *keeper) hook(cfg *pgxpool.Config) {
	before := cfg.BeforeConnect
	cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
		if before != nil {
			if err := before(ctx, cc); err != nil {
				return err
			}
		}
		set, err := k.forConnect(ctx)
		if err != nil {
			return fix.Credential(err)
		}
		cc.User, cc.Password = set.username, set.password.reveal()
		k.tag(&cc.Config, set)
		return nil
	}
	prepare := authmodes.CallerPrepareConn(cfg)
	cfg.PrepareConn = func(ctx context.Context, c *pgx.Conn) (bool, error) {
		if prepare != nil {
			if ok, err := prepare(ctx, c); !ok || err != nil {
				return ok, err
			}
		}
		return k.keep(c.PgConn(), time.Now()), nil
	}
}

// tag makes one connection's config remember its set: OnPgError reports
// what the server says about the credentials, AfterConnect stores the set
// and a random retirement jitter in the connection.
func (k *keeper) tag(c *pgconn.Config, set *credSet) {
	onErr, after := c.OnPgError, c.AfterConnect
	c.OnPgError = func(pc *pgconn.PgConn, pe *pgconn.PgError) bool {
		k.onPgError(set, pe)
		if onErr != nil {
			return onErr(pc, pe)
		}
		return pe.Severity != "FATAL" // pgconn's default
	}
	c.AfterConnect = func(ctx context.Context, pc *pgconn.PgConn) error {
		pc.CustomData()[tagKey] = &connTag{set: set, jitter: rand.Float64()}
		if after != nil {
			return after(ctx, pc)
		}
		return nil
	}
}

// onPgError reacts to the server's word on a connection of set: refused
// credentials (28P01 invalid_password, 28000 invalid_authorization_
// specification: dropped or NOLOGIN role, no pg_hba match) make them stale;
// a session ended by an administrator (57P01, as a lease revocation does)
// makes the mode check the lease with Vault.
func (k *keeper) onPgError(set *credSet, pe *pgconn.PgError) {
	switch pe.Code {
	case "28P01", "28000":
		k.rejected(set, pe.Code)
	case "57P01":
		k.suspect(set)
	}
}

// keep reports whether a pooled connection may be handed out: false once
// its set was superseded and its jittered moment passed, or at once when
// its set can no longer log in. Each refusal is a "retire" event.
func (k *keeper) keep(pc *pgconn.PgConn, now time.Time) bool {
	tag, _ := pc.CustomData()[tagKey].(*connTag)
	return k.keepTagged(tag, pc.PID(), now)
}

// keepTagged is keep for a connection's tag (nil: not made by this mode).
func (k *keeper) keepTagged(tag *connTag, pid uint32, now time.Time) bool {
	if tag == nil {
		return true
	}
	at, retiring := tag.set.retireAt(tag.jitter)
	if !retiring || now.Before(at) {
		return true
	}
	k.stats.retired.Add(1)
	why := fmt.Sprintf("%.1fs after new credentials", now.Sub(time.Unix(0, tag.set.retireFrom.Load())).Seconds())
	if tag.set.has(flagRevoked | flagRejected) {
		why = "its credentials no longer log in"
	}
	k.event("retire", fmt.Sprintf("connection of %s (pid %d) retired, %s", tag.set.username, pid, why), false)
	return false
}
