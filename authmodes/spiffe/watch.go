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
	if changed && m.arrived != nil {
		close(m.arrived)
		m.arrived = nil
	}
	m.mu.Unlock()
	if !changed {
		return
	}
	m.event("rotation", fmt.Sprintf("new SVID %s", describe(svid)), true)
	if m.tracker != nil {
		m.tracker.rotated(serial, now)
	}
}

// CredentialSerial returns the serial (hex) of the SVID the mode presents
// on new connections.
func (m *mode) CredentialSerial() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.serial
}

// WaitNewCredential waits until the mode has an SVID whose serial is not
// old, and returns its serial; ctx bounds the wait.
func (m *mode) WaitNewCredential(ctx context.Context, old string) (string, error) {
	for {
		m.mu.Lock()
		if m.serial != old {
			s := m.serial
			m.mu.Unlock()
			return s, nil
		}
		if m.arrived == nil {
			m.arrived = make(chan struct{})
		}
		arrived := m.arrived
		m.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return "", fmt.Errorf("no SVID other than serial=%s arrived from the Workload API at %s: %w", old, m.addr, ctx.Err())
		}
	}
}
