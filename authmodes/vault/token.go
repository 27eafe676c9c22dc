package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/vault/api"
)

// The mode's own Vault token (an AppRole login) is kept alive as a
// production client keeps it: renewed every third of its TTL while a
// renewal grants the full TTL, and replaced by a new login as soon as one
// does not (the token is at its max TTL) or fails. Vault revokes every
// lease a token read when the token expires or is revoked, so after a new
// login the mode reads new dynamic credentials under the new token at once
// and retires the old user's connections before the old token's expiry.

// tokenRetryWait is the pause between failed logins while the old token
// still lives.
const tokenRetryWait = time.Second

// token is the state of one login.
type token struct {
	id     secret
	ttl    time.Duration // the TTL asked for at each renewal: the login's
	expire time.Time
	final  bool // a renewal came back short: the token is at its max TTL
	failed int  // logins that failed since it became final
}

func tokenFrom(auth *api.Secret, now time.Time) *token {
	ttl := time.Duration(auth.Auth.LeaseDuration) * time.Second
	return &token{id: newSecret(auth.Auth.ClientToken), ttl: ttl, expire: now.Add(ttl)}
}

// keepToken renews and replaces the login until ctx ends. A token that is
// not renewable or has no TTL (a root token) is left alone.
func (k *keeper) keepToken(ctx context.Context, auth *api.Secret) {
	if auth == nil || auth.Auth == nil || !auth.Auth.Renewable || auth.Auth.LeaseDuration <= 0 {
		return
	}
	tok := tokenFrom(auth, time.Now())
	for {
		wait := tok.ttl / 3
		if tok.final {
			wait = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !tok.final {
			k.renewToken(ctx, tok)
			continue
		}
		if next := k.loginAgain(ctx, tok); next != nil {
			tok = next
		}
	}
}

// renewToken renews the token for its TTL (auth/token/renew-self); a
// shorter grant or a failure makes it final.
func (k *keeper) renewToken(ctx context.Context, tok *token) {
	rctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	sec, err := k.client.Auth().Token().RenewTokenAsSelfWithContext(rctx, tok.id.reveal(), int(tok.ttl.Seconds()))
	if err != nil || sec == nil || sec.Auth == nil {
		if ctx.Err() == nil {
			k.event("renewal-failed", "Vault token: "+oneLine(k.c.vaultError(opRenew, "auth/token/renew-self", err).Error())+"; logging in again", false)
		}
		tok.final = true
		return
	}
	got := time.Duration(sec.Auth.LeaseDuration) * time.Second
	tok.expire = time.Now().Add(got)
	tok.final = got < tok.ttl
	k.event("renewal", fmt.Sprintf("Vault token renewed, ttl %s", got), false)
}

// loginAgain logs in with AppRole again and, for a dynamic role, reads new
// credentials under the new token, whose retirement of the old user's
// connections ends before the old token (and its leases) expires. It
// returns the new token, or nil after a failure (tried again after
// tokenRetryWait while the old token lives).
func (k *keeper) loginAgain(ctx context.Context, old *token) *token {
	lctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	auth, err := k.c.appRoleLogin(lctx, k.client)
	if err != nil {
		if ctx.Err() == nil {
			if old.failed++; old.failed == 1 { // one event per streak
				k.event("error", "AppRole login again: "+oneLine(err.Error()), false)
			}
			sleepCtx(ctx, tokenRetryWait)
		}
		return nil
	}
	k.stats.logins.Add(1)
	k.event("login", fmt.Sprintf("AppRole login again (role_id from %s), token ttl %ds; the old token expires in %s",
		k.c.roleIDFile, auth.Auth.LeaseDuration, max(0, time.Until(old.expire)).Round(time.Second)), false)
	if !k.c.static() {
		k.renewUnderNewToken(lctx, old.expire)
	}
	return tokenFrom(auth, time.Now())
}

// renewUnderNewToken replaces the current dynamic set with one read under
// the client's new token; deadline is the old token's expiry.
func (k *keeper) renewUnderNewToken(ctx context.Context, deadline time.Time) {
	// A failure is reported by replace; the next update retries.
	_, _, _ = k.replace(ctx, change{why: "new Vault token: the old token's leases end with it", deadline: deadline})
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
