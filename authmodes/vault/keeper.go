package vault

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/authbench/authbench/authmodes"
)

// Timing of the keeper.
const (
	fetchTimeout  = 15 * time.Second       // one background update
	maxBackoff    = 5 * time.Second        // between failed attempts
	firstBackoff  = 250 * time.Millisecond // after the first failure
	firstPoll     = 100 * time.Millisecond // static: after the rotation was due
	maxExpiryEdge = time.Second            // replace a lease this close to expiry
	retireGrace   = 2 * time.Second        // after the retire span, before the old lease is let go
	maxAutoSpan   = 10 * time.Second       // longest automatic retire span
)

// action is what an update does with the current set.
type action int

const (
	keep action = iota
	verify
	replace
)

// keeper owns the current credential set: it decides when to replace it,
// replaces it (one update at a time), watches leases and counts events.
type keeper struct {
	c      *conf
	src    source
	client *api.Client
	events authmodes.EventSink
	phases authmodes.PhaseSink

	sem  chan struct{} // one update at a time
	kick chan struct{} // wakes the background loop

	mu       sync.Mutex
	cur      *credSet
	gen      int64
	sets     []*credSet // dynamic sets whose leases may be alive
	failures int
	retryAt  time.Time
	lastErr  error
	polls    int // static: reads since the rotation was due that found none

	stats struct{ sets, renewals, retired, revocations, rejections, logins atomic.Int64 }

	closed   atomic.Bool
	stopLoop context.CancelFunc
	loopDone chan struct{}
}

func newKeeper(c *conf, client *api.Client, env authmodes.Env) *keeper {
	k := &keeper{
		c: c, client: client, events: env.Events, phases: env.Phases,
		sem: make(chan struct{}, 1), kick: make(chan struct{}, 1),
	}
	if c.static() {
		k.src = &staticSource{c: c, client: client}
	} else {
		k.src = &dynamicSource{c: c, client: client}
	}
	return k
}

// current returns the current set (nil before the first).
func (k *keeper) current() *credSet {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cur
}

// forConnect returns the credentials for a new connection, replacing or
// checking the current set first when it needs it (that Vault call is then
// part of the connection's credential phase).
func (k *keeper) forConnect(ctx context.Context) (*credSet, error) {
	if cur := k.current(); cur != nil {
		if a, _ := k.plan(cur, false, time.Now()); a == keep {
			return cur, nil
		}
	}
	return k.update(ctx, false)
}

// plan decides what an update does: background updates also replace a set
// that is due; every update replaces a dead or expiring one.
func (k *keeper) plan(cur *credSet, background bool, now time.Time) (action, string) {
	switch {
	case cur == nil:
		return replace, "first credentials"
	case cur.has(flagRevoked):
		return replace, "the lease was revoked"
	case cur.has(flagRejected):
		return replace, "the database refused the credentials"
	case !cur.static() && !now.Before(cur.expiry().Add(-edge(cur))):
		return replace, "the lease is about to expire"
	case cur.has(flagSuspect):
		return verify, ""
	case background && !now.Before(k.due(cur)):
		if cur.static() {
			return replace, "Vault's rotation was due"
		}
		return replace, fmt.Sprintf("due at %.0f%% of the %s TTL", 100*k.c.fraction, cur.ttl)
	}
	return keep, ""
}

// edge is how close to its expiry a lease is replaced even inline.
func edge(s *credSet) time.Duration { return min(maxExpiryEdge, s.ttl/10) }

// due is when the background replaces the set: at the refresh fraction of
// a lease's TTL, or, for a static role, once Vault's rotation is due (then
// polling with backoff until the password changed).
func (k *keeper) due(s *credSet) time.Time {
	if s.static() {
		k.mu.Lock()
		polls := k.polls
		k.mu.Unlock()
		return s.expiry().Add(min(maxBackoff, firstPoll<<min(polls, 10)))
	}
	return s.issued.Add(time.Duration(k.c.fraction * float64(s.ttl)))
}

// update brings the current set up to date, one caller at a time; a caller
// that waited finds the work done. On failure it keeps a set that can still
// log in; inline callers do not retry Vault before the backoff ends.
func (k *keeper) update(ctx context.Context, background bool) (*credSet, error) {
	select {
	case k.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for Vault credentials: %w", ctx.Err())
	}
	defer func() { <-k.sem }()
	now := time.Now()
	cur := k.current()
	act, why := k.plan(cur, background, now)
	if act == keep {
		return cur, nil
	}
	if err := k.backingOff(now); err != nil && !background {
		return fallback(cur, now, err)
	}
	if act == verify {
		if k.verify(ctx, cur) {
			return cur, nil
		}
		why = "the lease was revoked"
	}
	if k.refusedAsRevoked(ctx, cur) {
		why = "the lease was revoked"
	}
	start := time.Now()
	set, err := k.src.fetch(ctx)
	if err != nil {
		k.failed(err)
		return fallback(cur, now, err)
	}
	if background && k.phases != nil {
		k.phases.Phase("credential", time.Since(start))
	}
	return k.install(set, cur, change{why: why}), nil
}

// change says why a set replaces another; forced is a rotation asked for
// by `run --rotate-every`; a non-zero deadline is when the old set's
// leases end (its token expires), which its retirement must beat.
type change struct {
	why      string
	forced   bool
	deadline time.Time
}

// verify asks Vault whether a suspect set still stands; false when it was
// revoked. When Vault cannot tell, the set is kept.
func (k *keeper) verify(ctx context.Context, cur *credSet) bool {
	ok, err := k.src.stillValid(ctx, cur)
	cur.clear(flagSuspect)
	if err != nil || ok {
		return true
	}
	k.revoked(cur, "Vault no longer has it")
	return false
}

// refusedAsRevoked asks Vault about a dynamic set the database refused:
// when Vault no longer has its lease, the refusal was a revocation and is
// reported as one (a lease revoked before any connection used it is
// otherwise seen only at its next renewal).
func (k *keeper) refusedAsRevoked(ctx context.Context, cur *credSet) bool {
	if cur == nil || cur.static() || !cur.has(flagRejected) || cur.has(flagRevoked) {
		return false
	}
	if ok, err := k.src.stillValid(ctx, cur); err != nil || ok {
		return false
	}
	k.revoked(cur, "Vault no longer has it; the database refused its user")
	return true
}

// fallback returns cur while it can still log in, else err.
func fallback(cur *credSet, now time.Time, err error) (*credSet, error) {
	if cur != nil && !cur.dead(now) {
		return cur, nil
	}
	return nil, err
}

// backingOff returns the last error while failed attempts back off.
func (k *keeper) backingOff(now time.Time) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.failures > 0 && now.Before(k.retryAt) {
		return k.lastErr
	}
	return nil
}

// failed records a failed attempt: exponential backoff, one event per
// streak of failures.
func (k *keeper) failed(err error) {
	k.mu.Lock()
	k.failures++
	k.retryAt = time.Now().Add(min(maxBackoff, firstBackoff<<min(k.failures-1, 10)))
	k.lastErr = err
	first := k.failures == 1
	k.mu.Unlock()
	if first {
		k.event("error", k.src.name()+": "+oneLine(err.Error()), false)
	}
}

// install makes set current (unless a static role's password did not
// change yet), starts its lease's renewals, and starts retiring the
// connections of the set it replaces.
func (k *keeper) install(set, old *credSet, why change) *credSet {
	now := time.Now()
	if old != nil && old.static() && set.password.reveal() == old.password.reveal() {
		old.setExpiry(set.expiry())
		old.clear(flagRejected)
		k.mu.Lock()
		k.polls++
		k.mu.Unlock()
		return old
	}
	k.mu.Lock()
	k.gen++
	set.gen, k.cur = k.gen, set
	k.polls, k.failures, k.retryAt, k.lastErr = 0, 0, time.Time{}, nil
	if !set.static() {
		k.sets = append(pruneSets(k.sets, now), set)
	}
	k.mu.Unlock()
	k.stats.sets.Add(1)
	if old != nil && old.username != set.username {
		span, after := k.retireSpan(old, now), time.Duration(0)
		if !why.deadline.IsZero() {
			// Vault revokes the old leases at the deadline: stop renewing them
			// just before, once the connections are retired.
			span = min(span, max(0, why.deadline.Sub(now)/2))
			after = max(span, why.deadline.Sub(now)-retireGrace/2)
		}
		old.supersede(now, span)
		if after == 0 || after > span+retireGrace {
			after = span + retireGrace
		}
		time.AfterFunc(after, func() { k.retired(old, why.forced) })
	}
	if set.renewable {
		k.watch(set)
	}
	k.announce(set, old, why)
	k.poke()
	return set
}

// retireSpan is --vault-retire-jitter, or by default half of what is left
// of the old lease (so every old connection is gone before it expires) but
// at most maxAutoSpan (so the whole change lands in the rotation table's
// 10s window).
func (k *keeper) retireSpan(old *credSet, now time.Time) time.Duration {
	if k.c.jitter >= 0 {
		return k.c.jitter
	}
	return min(maxAutoSpan, max(0, old.expiry().Sub(now)/2))
}

// pruneSets drops sets whose leases have expired.
func pruneSets(sets []*credSet, now time.Time) []*credSet {
	out := sets[:0]
	for _, s := range sets {
		if now.Before(s.expiry()) && !s.has(flagRevoked) {
			out = append(out, s)
		}
	}
	return out
}
