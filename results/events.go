package results

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Event is something that happened to the run besides ops: a credential
// rotation, a login, a renewal, a retired connection, a fault.
type Event struct {
	Time    time.Time `json:"time"`
	Elapsed float64   `json:"elapsed_s"`
	Kind    string    `json:"kind"`             // e.g. "rotation", "login", "renewal", "retire"
	Source  string    `json:"source,omitempty"` // the auth mode or component
	Detail  string    `json:"detail,omitempty"` // serial, lease id, principal; never a secret
	// Rotation marks events that replace the credential in use; the summary
	// computes a dip and recovery for each.
	Rotation bool `json:"rotation,omitempty"`
	// Instance is the fleet instance (1-based) whose credential source
	// the event is about; 0 for the run as a whole (and for every event
	// of a run of one instance).
	Instance int `json:"instance,omitempty"`
}

// Event records an event now. Detail must not contain a secret.
func (r *Registry) Event(kind, source, detail string, rotation bool) {
	r.InstanceEvent(0, kind, source, detail, rotation)
}

// InstanceEvent records an event of fleet instance id (1-based; 0 = the
// run as a whole) now. Detail must not contain a secret.
func (r *Registry) InstanceEvent(id int, kind, source, detail string, rotation bool) {
	now := time.Now()
	r.mu.Lock()
	r.events = append(r.events, Event{
		Time: now, Elapsed: now.Sub(r.start).Seconds(),
		Kind: kind, Source: source, Detail: detail, Rotation: rotation, Instance: id,
	})
	r.mu.Unlock()
}

// InstanceEvents is the EventSink of one fleet instance: its events carry
// the instance's id.
type InstanceEvents struct {
	Registry *Registry
	ID       int
}

// Event records an event of the instance now.
func (e InstanceEvents) Event(kind, source, detail string, rotation bool) {
	e.Registry.InstanceEvent(e.ID, kind, source, detail, rotation)
}

// Events returns a copy of every event so far.
func (r *Registry) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Restart moves the run's start to t (after connecting and preparing),
// re-basing the elapsed time of events recorded before it.
func (r *Registry) Restart(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.start, r.lastTick = t, t
	r.lastOpened, r.lastFailed = r.conns.opened.Load(), r.conns.failed.Load()
	r.hsMu.Lock()
	r.tickHS.Reset() // the first second's handshakes are its own
	r.hsMu.Unlock()
	for i := range r.events {
		r.events[i].Elapsed = r.events[i].Time.Sub(t).Seconds()
	}
}

// ResetConnStats forgets the connections and handshake phases recorded so
// far (handshake runs count only their own connections).
func (r *Registry) ResetConnStats() {
	r.mu.Lock()
	r.phases = map[string]*hdr.Histogram{}
	r.mu.Unlock()
	r.conns.opened.Store(0)
	r.conns.failed.Store(0)
	r.conns.closed.Store(0)
	r.conns.totalNs.Store(0)
	r.hsMu.Lock()
	r.tickHS.Reset()
	r.lastOpened, r.lastFailed = 0, 0
	r.hsMu.Unlock()
}
