package gssapi

import (
	"context"
	"fmt"
	"time"
)

// Bounds of the wait before a failed refresh is tried again.
const (
	minRetry = 250 * time.Millisecond
	maxRetry = 5 * time.Second
)

// keepFresh starts the refresher: it renews the TGT (or logs in afresh)
// when a quarter of its life is left, and logs in afresh every
// reloginEvery when that is set. Failures are retried until close.
func (s *session) keepFresh(reloginEvery time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		s.refreshLoop(ctx, reloginEvery)
	}()
}

func (s *session) refreshLoop(ctx context.Context, reloginEvery time.Duration) {
	var notBefore time.Time // the next attempt's earliest time
	failures := 0
	for {
		at, force := s.nextRefresh(reloginEvery)
		if notBefore.After(at) {
			at = notBefore
		}
		if !sleepUntil(ctx, at) {
			return
		}
		err := s.refresh(force)
		if err == nil {
			if failures > 0 {
				fmt.Fprintf(s.log, "gssapi: TGT of %s refreshed after %d failed attempt(s)\n", s.src.principal, failures)
			}
			// Even a KDC handing out very short tickets is not asked in a tight loop.
			notBefore, failures = time.Now().Add(minRetry), 0
			continue
		}
		if failures == 0 {
			fmt.Fprintf(s.log, "gssapi: cannot refresh the TGT (retrying until it works): %s\n", oneLine(err.Error()))
			if s.events != nil {
				s.events.Event("refresh_failed", Name, oneLine(err.Error()), false)
			}
		}
		failures++
		notBefore = time.Now().Add(retryDelay(s.current(), time.Now()))
	}
}

// nextRefresh returns when the TGT is due for renewal, or for a forced
// login if that comes first.
func (s *session) nextRefresh(reloginEvery time.Duration) (time.Time, bool) {
	at := s.current().refreshAt()
	if reloginEvery > 0 {
		if r := s.lastLogin().Add(reloginEvery); r.Before(at) {
			return r, true
		}
	}
	return at, false
}

// retryDelay waits a quarter of the TGT's remaining life, within bounds.
func retryDelay(cur tgt, now time.Time) time.Duration {
	return min(max(cur.end.Sub(now)/4, minRetry), maxRetry)
}

// sleepUntil waits until t; it reports false when ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
