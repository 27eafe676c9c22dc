package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/authbench/authbench/fix"
)

// source reads credentials from Vault.
type source interface {
	// fetch reads a credential set.
	fetch(ctx context.Context) (*credSet, error)
	// stillValid asks Vault whether set still stands; an error means Vault
	// could not say.
	stillValid(ctx context.Context, set *credSet) (bool, error)
	// name is the role for events, e.g. "role bench".
	name() string
}

// dynamicSource reads <mount>/creds/<role>: a new user per read.
type dynamicSource struct {
	c      *conf
	client *api.Client
}

func (d *dynamicSource) name() string { return "role " + d.c.role }

// fetch reads new credentials (GET <mount>/creds/<role>; Vault's answer has
// lease_id, lease_duration, renewable and data {username, password}).
func (d *dynamicSource) fetch(ctx context.Context) (*credSet, error) {
	sec, set, err := d.c.readCreds(ctx, d.client, opCreds)
	if err != nil {
		return nil, err
	}
	if sec.LeaseID == "" {
		return nil, &fix.Error{Step: "vault-role", What: fix.Textf("Vault answered %s without a lease: is %q a dynamic role?", d.c.rolePath(), d.c.role),
			Fix: fix.Textf("use %v for a static one", fix.Flag("vault-static-role"))}
	}
	set.leaseID, set.renewable, set.lease = sec.LeaseID, sec.Renewable, sec
	set.ttl = time.Duration(sec.LeaseDuration) * time.Second
	set.setExpiry(set.issued.Add(set.ttl))
	return set, nil
}

// stillValid renews the lease (PUT sys/leases/renew): Vault answers 400
// "lease not found" for a revoked one. A renewal also moves the expiry.
func (d *dynamicSource) stillValid(ctx context.Context, set *credSet) (bool, error) {
	sec, err := d.client.Sys().RenewWithContext(ctx, set.leaseID, int(set.ttl.Seconds()))
	switch {
	case leaseGone(err):
		return false, nil
	case err != nil:
		return true, d.c.vaultError(opRenew, "sys/leases/renew", err)
	}
	if sec != nil && sec.LeaseDuration > 0 {
		set.setExpiry(time.Now().Add(time.Duration(sec.LeaseDuration) * time.Second))
	}
	return true, nil
}

// staticSource reads <mount>/static-creds/<role>: one user, a password
// Vault rotates every rotation_period.
type staticSource struct {
	c      *conf
	client *api.Client
}

func (s *staticSource) name() string { return "static role " + s.c.staticRole }

// fetch reads the current password (GET <mount>/static-creds/<role>;
// data {username, password, last_vault_rotation, rotation_period, ttl},
// ttl being the seconds to the next rotation).
func (s *staticSource) fetch(ctx context.Context) (*credSet, error) {
	sec, set, err := s.c.readCreds(ctx, s.client, opStatic)
	if err != nil {
		return nil, err
	}
	set.ttl = seconds(sec.Data["rotation_period"])
	next := set.issued.Add(seconds(sec.Data["ttl"]))
	if t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(sec.Data["last_vault_rotation"])); err == nil {
		set.rotated = t
		if set.ttl > 0 {
			next = t.Add(set.ttl)
		}
	}
	set.setExpiry(next)
	return set, nil
}

// stillValid reads the static credentials again: the set stands while the
// password is the same.
func (s *staticSource) stillValid(ctx context.Context, set *credSet) (bool, error) {
	fresh, err := s.fetch(ctx)
	if err != nil {
		return true, err
	}
	return fresh.password.reveal() == set.password.reveal(), nil
}

// readCreds reads the role's credentials (GET c.rolePath()) and takes
// username and password out of the answer; op picks the advice when the
// read fails.
func (c *conf) readCreds(ctx context.Context, client *api.Client, op string) (*api.Secret, *credSet, error) {
	path := c.rolePath()
	sec, err := client.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return nil, nil, c.vaultError(op, path, err)
	}
	set, err := credsFrom(sec, path, c.addr)
	if err != nil {
		return nil, nil, err
	}
	return sec, set, nil
}

// credsFrom takes username and password out of a read's answer.
func credsFrom(sec *api.Secret, path, addr string) (*credSet, error) {
	if sec == nil {
		return nil, &fix.Error{Step: "vault-role", What: fix.Textf("nothing at %s on Vault %s", path, addr),
			Fix: fix.Textf("check %v (is the database secrets engine mounted there?) and the role", fix.Flag("vault-mount"))}
	}
	user, _ := sec.Data["username"].(string)
	pw, _ := sec.Data["password"].(string)
	if user == "" || pw == "" {
		return nil, fmt.Errorf("Vault answered %s without a username and password: is it a database secrets engine role?", path)
	}
	return &credSet{username: user, password: newSecret(pw), issued: time.Now()}, nil
}

// seconds reads a TTL field: a JSON number (json.Number, as the client
// decodes them), a float or a string of digits.
func seconds(v any) time.Duration {
	var f float64
	switch x := v.(type) {
	case json.Number:
		f, _ = x.Float64()
	case float64:
		f = x
	case string:
		f, _ = strconv.ParseFloat(x, 64)
	}
	return time.Duration(f * float64(time.Second))
}
