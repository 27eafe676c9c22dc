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
						reg.Event("rotation-failed", o.auth, oneLine(err.Error()), false)
					}
					continue
				}
				detail, err := forceRotation(ctx, o.auth, p)
				if err != nil && ctx.Err() != nil {
					return // the run ended during the rotation: nothing failed
				}
				if err != nil {
					reg.Event("rotation-failed", o.auth, oneLine(err.Error()), false)
					continue
				}
				reg.Event(results.ForcedRotation, o.auth, detail, true)
			}
		}
	}()
	return func() { cancel(); <-done }
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
	dir := os.Getenv("AUTHBENCH_STACK_DIR")
	if dir == "" {
		return "", fmt.Errorf("--rotate-every with --auth %s needs the local stack: run `eval \"$(authbench stack env)\"`", auth)
	}
	st, err := stack.Load(dir)
	if err != nil {
		return "", err
	}
	return st.ForceRotation(ctx, auth, user)
}
