package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
)

var _ authmodes.Diagnoser = (*mode)(nil)

// Diagnose checks, in order: Vault answers and is unsealed, the login
// (token or AppRole) works, and the role's credentials can be read; a
// dynamic lease read for the check is revoked at once. No token,
// secret_id, username or password is shown.
func (m *mode) Diagnose(ctx context.Context, cfg *pgxpool.Config, env authmodes.DiagnoseEnv) []authmodes.Check {
	c := &m.c
	var seq authmodes.Sequence
	var client *api.Client
	seq.Run("vault", func() authmodes.Check {
		var check authmodes.Check
		client, check = c.diagnoseHealth(ctx)
		return check
	})
	var auth *api.Secret
	seq.Run("vault-login", func() authmodes.Check {
		var err error
		if auth, err = c.login(ctx, client); err != nil {
			return authmodes.FailErr("", err)
		}
		return authmodes.Pass("", c.describeLogin(auth))
	})
	seq.Run("vault-role", func() authmodes.Check { return c.diagnoseRole(ctx, client) })
	if auth != nil { // a token of doctor's own AppRole login: give it back
		_ = client.Auth().Token().RevokeSelfWithContext(ctx, "")
	}
	return seq.Checks
}

// diagnoseHealth checks the flags, then sys/health (no token needed).
func (c *conf) diagnoseHealth(ctx context.Context) (*api.Client, authmodes.Check) {
	if err := c.validate(); err != nil {
		return nil, authmodes.FailErr("", err)
	}
	client, err := c.newClient()
	if err != nil {
		return nil, authmodes.FailErr("", err)
	}
	h, err := client.Sys().HealthWithContext(ctx)
	switch {
	case err != nil:
		return nil, authmodes.FailErr("", c.vaultError(opHealth, "sys/health", err))
	case h.Sealed:
		return nil, authmodes.Fail("", fmt.Sprintf("Vault at %s is sealed", c.addr), "unseal it (`vault operator unseal`)")
	case !h.Initialized:
		return nil, authmodes.Fail("", fmt.Sprintf("Vault at %s is not initialized", c.addr), "initialize and unseal it (`vault operator init`)")
	}
	version := h.Version
	if version == "" {
		version = "version not reported"
	}
	return client, authmodes.Pass("", fmt.Sprintf("Vault at %s answers: initialized, unsealed (%s)", c.addr, version))
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
func (c *conf) diagnoseRole(ctx context.Context, client *api.Client) authmodes.Check {
	if c.static() {
		set, err := (&staticSource{c: c, client: client}).fetch(ctx)
		if err != nil {
			return authmodes.FailErr("", err)
		}
		return authmodes.Pass("", fmt.Sprintf("read %s: Vault rotates the password every %s, next in %s (credentials not shown)",
			c.rolePath(), set.ttl, max(0, time.Until(set.expiry())).Round(time.Second)))
	}
	set, err := (&dynamicSource{c: c, client: client}).fetch(ctx)
	if err != nil {
		return authmodes.FailErr("", err)
	}
	if err := client.Sys().RevokeWithContext(ctx, set.leaseID); err != nil {
		return authmodes.Fail("", fmt.Sprintf("read %s but could not revoke its lease %s: %s", c.rolePath(), set.leaseID, c.vaultError(opRevoke, "sys/leases/revoke", err)),
			"revoke it by hand (`vault lease revoke "+set.leaseID+"`)")
	}
	renew := "not renewable"
	if set.renewable {
		renew = "renewable"
	}
	return authmodes.Pass("", fmt.Sprintf("read %s: a database user with a %s %s lease (credentials not shown), lease revoked at once",
		c.rolePath(), set.ttl, renew))
}
