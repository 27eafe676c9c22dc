package vault

import (
	"context"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"
)

func init() {
	authmodes.Register(authmodes.Meta{
		Name:        "vault",
		Description: "database credentials from Vault's database secrets engine (dynamic or static role), renewed and rotated under load",
		New:         newMode,
	})
}

// mode is the vault auth mode.
type mode struct {
	c         conf
	k         *keeper
	closeOnce sync.Once
}

func newMode(fs *pflag.FlagSet) authmodes.Mode {
	m := &mode{}
	m.c.register(fs)
	return m
}

// DefaultUser is none: Vault names the user.
func (m *mode) DefaultUser() string { return "" }

// UserFromCredentials is true: every credential set Vault issues names the
// SQL user, which Configure puts into the pool config.
func (m *mode) UserFromCredentials() bool { return true }

// RetiresConnections is true (authmodes.ConnRetirer): PrepareConn retires
// the connections of superseded credentials, spread by the retire jitter.
func (m *mode) RetiresConnections() bool { return true }

// Settings returns the flags (file paths, never secrets) and the counts of
// what happened to the credentials.
func (m *mode) Settings() map[string]string {
	s := m.c.settings()
	if k := m.k; k != nil {
		for name, v := range map[string]int64{
			"credential_sets": k.stats.sets.Load(), "renewals": k.stats.renewals.Load(),
			"retired_connections": k.stats.retired.Load(), "revocations": k.stats.revocations.Load(),
			"rejections": k.stats.rejections.Load(), "logins": k.stats.logins.Load(),
		} {
			s[name] = strconv.FormatInt(v, 10)
		}
	}
	return s
}

// Configure checks Vault, logs in, reads the first credentials and hooks
// the pool; renewals and rotations run in the background until Close.
func (m *mode) Configure(ctx context.Context, cfg *pgxpool.Config, env authmodes.Env) error {
	if err := m.c.validate(); err != nil {
		return err
	}
	m.closeOnce = sync.Once{} // a mode closed after one pool may configure the next (capacity steps)
	client, auth, err := m.c.connect(ctx)
	if err != nil {
		return err
	}
	k := newKeeper(&m.c, client, env)
	k.loginEvent(auth)
	set, err := k.update(ctx, true)
	if err != nil {
		k.close()
		return err
	}
	k.proveStatic(ctx, cfg)
	cfg.ConnConfig.User, cfg.ConnConfig.Password = set.username, ""
	k.hook(cfg)
	k.start(auth)
	m.k = k
	return nil
}

// Close stops the background work and revokes the leases the run holds.
func (m *mode) Close() error {
	m.closeOnce.Do(func() {
		if m.k != nil {
			m.k.close()
		}
	})
	return nil
}
