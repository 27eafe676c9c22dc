package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/vault/api"
)

// revokeTimeout bounds the revocation of the mode's leases on Close.
const revokeTimeout = 5 * time.Second

// start runs the background loop until close; auth, when not nil, is an
// AppRole login whose token keepToken renews and, at its max TTL, replaces
// by a new login.
func (k *keeper) start(auth *api.Secret) {
	ctx, cancel := context.WithCancel(context.Background())
	k.stopLoop, k.loopDone = cancel, make(chan struct{})
	go func() {
		defer close(k.loopDone)
		k.run(ctx)
	}()
	if auth != nil {
		go k.keepToken(ctx, auth)
	}
}

// run updates the set whenever it is due, and at once when poked (a
// revocation, a refusal, a terminated session).
func (k *keeper) run(ctx context.Context) {
	for {
		t := time.NewTimer(max(10*time.Millisecond, time.Until(k.nextWake())))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-k.kick:
			t.Stop()
		case <-t.C:
		}
		uctx, cancel := context.WithTimeout(ctx, fetchTimeout)
		_, _ = k.update(uctx, true)
		cancel()
	}
}

// nextWake is when the current set is due, or expiring, or, after a
// failure, when the backoff ends.
func (k *keeper) nextWake() time.Time {
	cur := k.current()
	if cur == nil {
		return time.Now().Add(time.Second)
	}
	t := k.due(cur)
	if !cur.static() {
		if e := cur.expiry().Add(-edge(cur)); e.Before(t) {
			t = e
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.failures > 0 && k.retryAt.After(t) {
		t = k.retryAt
	}
	return t
}

// watch renews set's lease with api.LifetimeWatcher while it is renewable,
// asking for its TTL again each time. A renewal Vault refuses because it
// no longer has the lease marks the set revoked.
func (k *keeper) watch(set *credSet) {
	w, err := k.client.NewLifetimeWatcher(&api.LifetimeWatcherInput{
		Secret:        set.lease,
		Increment:     int(set.ttl.Seconds()),
		RenewBehavior: api.RenewBehaviorErrorOnErrors,
	})
	if err != nil {
		set.mark(flagFinal)
		return
	}
	set.watcher.Store(w)
	go w.Start()
	go k.follow(set, w)
}

// follow records the watcher's renewals and its end.
func (k *keeper) follow(set *credSet, w *api.LifetimeWatcher) {
	for {
		select {
		case r := <-w.RenewCh():
			d := time.Duration(r.Secret.LeaseDuration) * time.Second
			set.setExpiry(r.RenewedAt.Add(d))
			k.stats.renewals.Add(1)
			k.event("renewal", fmt.Sprintf("lease %s of %s renewed, ttl %s", set.leaseID, set.username, d), false)
		case err := <-w.DoneCh():
			set.mark(flagFinal)
			switch {
			case err == nil: // at its max TTL, or stopped
			case leaseGone(err):
				k.revoked(set, "Vault refused to renew it")
			default:
				k.event("renewal-failed", fmt.Sprintf("lease %s of %s: %s", set.leaseID, set.username,
					oneLine(k.c.vaultError(opRenew, "sys/leases/renew", err).Error())), false)
			}
			return
		}
	}
}

// close stops the loop and every watcher and revokes the leases the mode
// still holds, so no database user of this run outlives it. The pool must
// be closed first.
func (k *keeper) close() {
	k.closed.Store(true)
	if k.stopLoop != nil {
		k.stopLoop()
		<-k.loopDone
	}
	k.mu.Lock()
	sets := k.sets
	k.sets = nil
	k.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	now := time.Now()
	for _, s := range sets {
		s.stopWatcher()
		if !s.static() && !s.has(flagRevoked) && now.Before(s.expiry()) {
			_ = k.client.Sys().RevokeWithContext(ctx, s.leaseID)
		}
	}
}
