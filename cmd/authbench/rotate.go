package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/spiffe"
)

// startRotations forces a credential rotation every --rotate-every while the
// load runs: through the mode itself when it renews its own credentials
// (authmodes.Rotator), otherwise through the credential issuer, the local
// stack. Each rotation is an event; the summary's rotation table measures
// its dip. The returned func stops it.
func startRotations(ctx context.Context, o *runOpts, p *pool, fl *driver.Fleet, reg *results.Registry) func() {
	if o.rotateEvery <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(o.rotateEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if fl != nil {
					if err := rotateFleet(ctx, o, fl, p, reg); err != nil && ctx.Err() == nil {
						reg.Event(results.RotationFailed, o.auth, oneLine(err.Error()), false)
					}
					continue
				}
				if !rotateOnce(ctx, o.auth, p, reg) {
					return
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// credentialWatcher is a mode whose credential an issuer outside it
// replaces (spiffe: SPIRE): it reports the serial it presents and waits for
// a new one, so that a forced rotation counts only once it has arrived.
type credentialWatcher interface {
	CredentialSerial() string
	WaitNewCredential(ctx context.Context, old string) (string, error)
}

// arrivalTimeout bounds how long a forced rotation may take to reach a
// credentialWatcher (SPIRE: the agent's next sync, about a second).
const arrivalTimeout = 30 * time.Second

// rotateOnce forces one rotation and records it (or rotation-failed); it
// reports false when the run ended during it.
func rotateOnce(ctx context.Context, auth string, p *pool, reg *results.Registry) bool {
	w, watched := p.mode.(credentialWatcher)
	before := ""
	if watched {
		before = w.CredentialSerial()
	}
	detail, err := forceRotation(ctx, auth, p)
	if err == nil && watched {
		wctx, cancel := context.WithTimeout(ctx, arrivalTimeout)
		var serial string
		serial, err = w.WaitNewCredential(wctx, before)
		cancel()
		// The mode's own event (a new credential) is the rotation the
		// table counts; this one says it was forced.
		if err == nil {
			reg.Event(results.ForcedRotation, auth, fmt.Sprintf("%s; serial=%s arrived", detail, serial), false)
			return true
		}
		err = fmt.Errorf("%s, but %w", detail, err)
	}
	if err != nil && ctx.Err() != nil {
		return false // the run ended during the rotation: nothing failed
	}
	if err != nil {
		reg.Event(results.RotationFailed, auth, oneLine(err.Error()), false)
		return true
	}
	reg.Event(results.ForcedRotation, auth, detail, true)
	return true
}

func forceRotation(ctx context.Context, auth string, p *pool) (string, error) {
	if r, ok := p.mode.(authmodes.Rotator); ok {
		return r.ForceRotation(ctx)
	}
	return issuerRotation(ctx, auth, p.user)
}

// issuerRotation has the credential issuer, the local stack, rotate user's
// credentials of mode auth.
func issuerRotation(ctx context.Context, auth, user string) (string, error) {
	st, err := rotationStack(auth)
	if err != nil {
		return "", err
	}
	return st.ForceRotation(ctx, auth, user)
}

// rotationStack loads the local stack that rotates auth's credentials.
func rotationStack(auth string) (*stack.State, error) {
	dir := os.Getenv("AUTHBENCH_STACK_DIR")
	if dir == "" {
		return nil, fmt.Errorf("--rotate-every with --auth %s needs the local stack: run `eval \"$(authbench stack env)\"`", auth)
	}
	return stack.Load(dir)
}

// checkRotations says, before the load starts, when --rotate-every cannot
// rotate the mode's credentials: the stack forces new SVIDs through its
// own SPIRE only, so a Workload API it does not run would record
// rotations that never happen.
func checkRotations(o *runOpts, p *pool) error {
	if o.rotateEvery <= 0 {
		return nil
	}
	if _, ok := p.mode.(authmodes.Rotator); ok {
		return nil
	}
	st, err := rotationStack(o.auth)
	if err != nil {
		return err
	}
	if o.auth != "spiffe" {
		return nil
	}
	socket := p.mode.Settings()["spiffe_socket"]
	if sp := spiffe.Of(st); sp == nil || socket != sp.Endpoint() {
		return fmt.Errorf("--rotate-every with --auth spiffe forces new SVIDs through the stack's SPIRE, but the Workload API at %s is not the stack's in %s: leave out --rotate-every (SPIRE renews SVIDs by itself) or use the stack's socket", socket, st.Dir)
	}
	return nil
}
