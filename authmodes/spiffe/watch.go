package spiffe

import (
	"context"
	"fmt"
	"time"
)

// startWatch reports every new SVID until Close.
func (m *mode) startWatch() {
	ctx, cancel := context.WithCancel(context.Background())
	m.stop, m.done = cancel, make(chan struct{})
	go func() {
		defer close(m.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-m.src.Updated():
				m.updated(time.Now())
			}
		}
	}()
}

// updated handles an update of the source: a new SVID is a rotation event
// and, with --spiffe-recycle-on-rotation, starts retiring older connections.
func (m *mode) updated(now time.Time) {
	svid, err := m.src.GetX509SVID()
	if err != nil {
		return
	}
	serial := serialOf(svid)
	m.mu.Lock()
	changed := serial != m.serial
	m.serial, m.notAfter, m.streamLost = serial, svid.Certificates[0].NotAfter, false
	m.mu.Unlock()
	if !changed {
		return
	}
	m.event("rotation", fmt.Sprintf("new SVID %s", describe(svid)), true)
	if m.tracker != nil {
		m.tracker.rotated(serial, now)
	}
}
