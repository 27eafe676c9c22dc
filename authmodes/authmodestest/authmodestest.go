// Package authmodestest holds what the auth modes' tests share: a Recorder
// that takes the place of the run's registry as the modes' event and phase
// sink, and waits for events without polling.
package authmodestest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Event is one event a mode reported.
type Event struct {
	Kind, Source, Detail string
	Rotation             bool
}

// String is the event as the tests print it: kind, source, detail and
// "(rotation)" when it replaced the credential in use.
func (e Event) String() string {
	s := e.Kind + " " + e.Source + " " + e.Detail
	if e.Rotation {
		s += " (rotation)"
	}
	return s
}

// Recorder is an authmodes.EventSink and PhaseSink that keeps everything a
// mode reports. It is safe for concurrent use; the zero value is ready.
type Recorder struct {
	mu      sync.Mutex
	events  []Event
	phases  map[string][]time.Duration
	changed chan struct{} // closed (and replaced) at every event
}

// Event records an event (authmodes.EventSink).
func (r *Recorder) Event(kind, source, detail string, rotation bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, Event{Kind: kind, Source: source, Detail: detail, Rotation: rotation})
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// Phase records a handshake phase (authmodes.PhaseSink).
func (r *Recorder) Phase(name string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.phases == nil {
		r.phases = map[string][]time.Duration{}
	}
	r.phases[name] = append(r.phases[name], d)
}

// Events returns every event so far, in order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Match returns the events so far for which match is true.
func (r *Recorder) Match(match func(Event) bool) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, e := range r.events {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

// Kind returns the events of kind so far.
func (r *Recorder) Kind(kind string) []Event { return r.Match(OfKind(kind)) }

// OfKind matches the events of kind.
func OfKind(kind string) func(Event) bool {
	return func(e Event) bool { return e.Kind == kind }
}

// Phases returns the durations recorded for the phase name.
func (r *Recorder) Phases(name string) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.phases[name]...)
}

// Text is every event, one a line, for checking that no secret reached
// one.
func (r *Recorder) Text() string {
	var b strings.Builder
	for _, e := range r.Events() {
		fmt.Fprintln(&b, e)
	}
	return b.String()
}

// WaitFor waits until at least n events match and returns them; the test
// fails, naming what and listing the events, when within passes first.
func (r *Recorder) WaitFor(t testing.TB, what string, n int, within time.Duration, match func(Event) bool) []Event {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		r.mu.Lock()
		var got []Event
		for _, e := range r.events {
			if match(e) {
				got = append(got, e)
			}
		}
		if len(got) >= n {
			r.mu.Unlock()
			return got
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("no %d %s events within %s; events:\n%s", n, what, within, r.Text())
			return nil
		}
	}
}

// WaitKind waits until there are at least n events of kind and returns
// them.
func (r *Recorder) WaitKind(t testing.TB, kind string, n int, within time.Duration) []Event {
	t.Helper()
	return r.WaitFor(t, fmt.Sprintf("%q", kind), n, within, OfKind(kind))
}

// AssertNoSecret fails the test when one of the secrets appears in an
// event; the message does not repeat the secret.
func (r *Recorder) AssertNoSecret(t testing.TB, secrets ...string) {
	t.Helper()
	text := r.Text()
	for i, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("secret #%d appears in an event", i+1)
		}
	}
}
