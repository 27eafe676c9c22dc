package vault

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Timing of the first static login.
const (
	proveTimeout = 15 * time.Second       // the one connection that proves the password
	staticSettle = 10 * time.Second       // how long Vault may take to serve a password it rotated
	settlePoll   = 200 * time.Millisecond // between reads while it settles
)

// proveStatic logs in once with a static role's first password before the
// pool opens. Vault may rotate the password between the read and the
// connect (OpenBao's queue rotates a due role at its next 5s tick, so a
// read can say "next rotation in 0s"); the database then refuses it with
// 28P01. The mode then reads the password again until Vault serves the new
// one, so the pool's first connection, the retry, uses it. Any other
// outcome is left to the pool's first connection to report.
func (k *keeper) proveStatic(ctx context.Context, cfg *pgxpool.Config) {
	set := k.current()
	if set == nil || !set.static() || !refusedPassword(k.tryLogin(ctx, cfg, set)) {
		return
	}
	k.rejected(set, "28P01")
	for deadline := time.Now().Add(staticSettle); time.Now().Before(deadline) && ctx.Err() == nil; sleepCtx(ctx, settlePoll) {
		fresh, err := k.src.fetch(ctx)
		if err != nil {
			return
		}
		if fresh.password.reveal() != set.password.reveal() {
			k.install(fresh, set, change{why: "the database refused the password just read: Vault had rotated it"})
			return
		}
	}
}

// tryLogin opens and closes one connection with set, through the hook set
// before the mode's.
func (k *keeper) tryLogin(ctx context.Context, cfg *pgxpool.Config, set *credSet) error {
	ctx, cancel := context.WithTimeout(ctx, proveTimeout)
	defer cancel()
	cc := cfg.ConnConfig.Copy()
	if cfg.BeforeConnect != nil {
		if err := cfg.BeforeConnect(ctx, cc); err != nil {
			return err
		}
	}
	cc.User, cc.Password = set.username, set.password.reveal()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// refusedPassword reports whether the database refused the password
// (SQLSTATE 28P01 invalid_password).
func refusedPassword(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "28P01"
}
