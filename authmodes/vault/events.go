package vault

import (
	"fmt"

	"github.com/hashicorp/vault/api"
)

// announce records the new set: "credentials" for the first one,
// "rotation" for every later one, a rotation event unless it was forced
// (then the driver records the rotation event itself).
func (k *keeper) announce(set, old *credSet, why change) {
	switch {
	case old == nil:
		k.event("credentials", k.src.name()+": "+set.describe(), false)
	case set.static():
		k.event("rotation", fmt.Sprintf("%s: new password, %s (%s)", k.src.name(), set.describe(), why.why), true)
	default:
		k.event("rotation", fmt.Sprintf("%s: new %s (%s)", k.src.name(), set.describe(), why.why), !why.forced)
	}
}

// revoked marks a set whose lease Vault no longer has; the event is a
// rotation event when it was the current set, since the load must move.
func (k *keeper) revoked(set *credSet, how string) {
	if !set.mark(flagRevoked) {
		return
	}
	k.stats.revocations.Add(1)
	k.event("revocation", fmt.Sprintf("lease %s of %s revoked: %s", set.leaseID, set.username, how), set == k.current())
	k.poke()
}

// rejected marks a set the database refused.
func (k *keeper) rejected(set *credSet, code string) {
	if !set.mark(flagRejected) {
		return
	}
	k.stats.rejections.Add(1)
	k.event("rejected", fmt.Sprintf("the database refused %s (SQLSTATE %s)", set.username, code), false)
	k.poke()
}

// suspect marks the current dynamic set for a check with Vault before its
// next use (a static role has no lease to check).
func (k *keeper) suspect(set *credSet) {
	if !set.static() && set == k.current() && set.mark(flagSuspect) {
		k.poke()
	}
}

// poke wakes the background loop.
func (k *keeper) poke() {
	select {
	case k.kick <- struct{}{}:
	default:
	}
}

// event records an event; detail never holds a secret.
func (k *keeper) event(kind, detail string, rotation bool) {
	if k.events != nil {
		k.events.Event(kind, "vault", detail, rotation)
	}
}

// loginEvent records how the mode logged in (auth: the AppRole login's
// answer, nil for a token).
func (k *keeper) loginEvent(auth *api.Secret) {
	k.stats.logins.Add(1)
	if auth == nil {
		k.event("login", "token from "+k.c.tokenSource(), false)
		return
	}
	k.event("login", fmt.Sprintf("AppRole login (role_id from %s), token ttl %ds", k.c.roleIDFile, auth.Auth.LeaseDuration), false)
}
