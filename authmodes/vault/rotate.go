package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/authbench/authbench/fix"
)

// ForceRotation reads new dynamic credentials now, for `run --rotate-every`
// (authmodes.Rotator): connections of the old user are retired as after a
// scheduled rotation, and the old lease is revoked once they are gone. A
// static role's password is Vault's to rotate, so it cannot be forced here.
func (m *mode) ForceRotation(ctx context.Context) (string, error) {
	if m.k == nil {
		return "", fmt.Errorf("the vault auth mode is not configured")
	}
	return m.k.force(ctx)
}

// force replaces the current dynamic set at once.
func (k *keeper) force(ctx context.Context) (string, error) {
	if k.c.static() {
		return "", &fix.Error{Step: "settings",
			What: fix.Textf("%v cannot rotate static role %s: Vault rotates its password on its own schedule (the stack's: %v)", fix.Flag("rotate-every"), k.c.staticRole, fix.Flag("vault-static-rotation")),
			Fix:  fix.Textf("use %v", fix.Flag("vault-role"))}
	}
	set, old, err := k.replace(ctx, change{why: "forced by the rotate-every setting", forced: true})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("new %s; old lease %s revoked once its connections are retired", set.describe(), old.leaseID), nil
}

// replace fetches a new dynamic set, one caller at a time, and installs it
// in place of the current one (old) for c's reason, timing the fetch as
// the credential phase. A failed fetch is reported and the current set
// kept.
func (k *keeper) replace(ctx context.Context, c change) (set, old *credSet, err error) {
	select {
	case k.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-k.sem }()
	old = k.current()
	start := time.Now()
	set, err = k.src.fetch(ctx)
	if err != nil {
		k.failed(err)
		return nil, nil, err
	}
	if k.phases != nil {
		k.phases.Phase("credential", time.Since(start))
	}
	k.install(set, old, c)
	return set, old, nil
}

// retired ends an old set's lease after its retire span: its renewals stop
// and, after a forced rotation, the lease is revoked (a scheduled one is
// left to expire, as Vault's clients usually do).
func (k *keeper) retired(old *credSet, revoke bool) {
	old.stopWatcher()
	if !revoke || k.closed.Load() || old.has(flagRevoked) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	if err := k.client.Sys().RevokeWithContext(ctx, old.leaseID); err != nil {
		k.event("error", "revoking the old lease "+old.leaseID+": "+oneLine(k.c.vaultError(opRevoke, "sys/leases/revoke", err).Error()), false)
		return
	}
	old.mark(flagRevoked)
	k.stats.revocations.Add(1)
	k.event("revocation", fmt.Sprintf("old lease %s of %s revoked after its connections were retired", old.leaseID, old.username), false)
}
