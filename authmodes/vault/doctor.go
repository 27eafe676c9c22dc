package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/doctor"
	"github.com/authbench/authbench/fix"
)

var _ doctor.Diagnoser = (*mode)(nil)

// Diagnose checks, in order: Vault answers and is unsealed, the login
// (token or AppRole) works, and the role's credentials can be read; a
// dynamic lease read for the check is revoked at once. No token,
// secret_id, username or password is shown.
func (m *mode) Diagnose(ctx context.Context, cfg *pgxpool.Config, env doctor.Env) []doctor.Check {
	c := &m.c
	var seq doctor.Sequence
	var client *api.Client
	seq.Run("vault", func() doctor.Check {
		var check doctor.Check
		client, check = c.diagnoseHealth(ctx)
		return check
	})
	var auth *api.Secret
	seq.Run("vault-login", func() doctor.Check {
		var err error
		if auth, err = c.login(ctx, client); err != nil {
			return doctor.FromErr("", err)
		}
		return doctor.Pass("", "%s", c.describeLogin(auth))
	})
	seq.Run("vault-role", func() doctor.Check { return c.diagnoseRole(ctx, client) })
	if auth != nil { // a token of doctor's own AppRole login: give it back
		_ = client.Auth().Token().RevokeSelfWithContext(ctx, "")
	}
	return seq.Checks
}

// diagnoseHealth checks the flags, then sys/health (no token needed).
func (c *conf) diagnoseHealth(ctx context.Context) (*api.Client, doctor.Check) {
	if err := c.validate(); err != nil {
		return nil, doctor.FromErr("", err)
	}
	client, err := c.newClient()
	if err != nil {
		return nil, doctor.FromErr("", err)
	}
	h, err := client.Sys().HealthWithContext(ctx)
	switch {
	case err != nil:
		return nil, doctor.FromErr("", c.vaultError(opHealth, "sys/health", err))
	case h.Sealed:
		return nil, doctor.Fail("", fix.Textf("Vault at %s is sealed", c.addr), fix.Textf("unseal it (`vault operator unseal`)"))
	case !h.Initialized:
		return nil, doctor.Fail("", fix.Textf("Vault at %s is not initialized", c.addr), fix.Textf("initialize and unseal it (`vault operator init`)"))
	}
	version := h.Version
	if version == "" {
		version = "version not reported"
	}
	return client, doctor.Pass("", "Vault at %s answers: initialized, unsealed (%s)", c.addr, version)
}

// describeLogin says how doctor logged in, naming files, never secrets.
func (c *conf) describeLogin(auth *api.Secret) string {
	if c.auth != authAppRole {
		return fmt.Sprintf("Vault accepted the token from %s (auth/token/lookup-self; not shown)", c.tokenSource())
	}
	ttl := "no TTL"
	if auth.Auth.LeaseDuration > 0 {
		ttl = "TTL " + (time.Duration(auth.Auth.LeaseDuration) * time.Second).String()
	}
	return fmt.Sprintf("AppRole login with %s and %s accepted (token %s, policies %v; not shown)",
		c.roleIDFile, c.secretIDFile, ttl, auth.Auth.Policies)
}

// diagnoseRole reads the role's credentials once; a dynamic lease is
// revoked right away.
func (c *conf) diagnoseRole(ctx context.Context, client *api.Client) doctor.Check {
	if c.static() {
		set, err := (&staticSource{c: c, client: client}).fetch(ctx)
		if err != nil {
			return doctor.FromErr("", err)
		}
		return doctor.Pass("", "read %s: Vault rotates the password every %s, next in %s (credentials not shown)",
			c.rolePath(), set.ttl, max(0, time.Until(set.expiry())).Round(time.Second))
	}
	set, err := (&dynamicSource{c: c, client: client}).fetch(ctx)
	if err != nil {
		return doctor.FromErr("", err)
	}
	if err := client.Sys().RevokeWithContext(ctx, set.leaseID); err != nil {
		return doctor.Fail("", fix.Textf("read %s but could not revoke its lease %s: %v", c.rolePath(), set.leaseID, c.vaultError(opRevoke, "sys/leases/revoke", err)),
			fix.Textf("revoke it by hand (`vault lease revoke %s`)", set.leaseID))
	}
	renew := "not renewable"
	if set.renewable {
		renew = "renewable"
	}
	return doctor.Pass("", "read %s: a database user with a %s %s lease (credentials not shown), lease revoked at once",
		c.rolePath(), set.ttl, renew)
}
