package results

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestRotationNoConnectionChanged: a new credential after which no
// connection was opened is marked, and the table says so instead of a dip;
// one after which connections were opened keeps its dip.
func TestRotationNoConnectionChanged(t *testing.T) {
	var ticks []TickPoint
	for s := 1; s <= 40; s++ {
		opened := int64(4)
		if s > 25 {
			opened = 6 // two connections opened after the second rotation
		}
		ticks = append(ticks, TickPoint{Elapsed: float64(s), OpsPerSec: 100, ConnsOpened: opened})
	}
	events := []Event{
		{Elapsed: 12.5, Kind: "rotation", Source: "spiffe", Rotation: true},
		{Elapsed: 24.5, Kind: "rotation", Source: "spiffe", Rotation: true},
	}
	rs := RotationImpacts(events, ticks)
	if len(rs) != 2 || !rs[0].NoConnChange || rs[1].NoConnChange {
		t.Fatalf("impacts %+v: want the first without a connection change, the second with", rs)
	}
	var out bytes.Buffer
	printRotations(&out, rs)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[2], "no connection changed") || strings.Contains(lines[3], "no connection changed") {
		t.Errorf("rotation table:\n%s", out.String())
	}
}

// TestRotationsFailedCounted: the summary counts rotation-failed events
// and the text output says how many.
func TestRotationsFailedCounted(t *testing.T) {
	r := NewRegistry([]string{"op"}, false, time.Now())
	r.Event(RotationFailed, "spiffe", "registration entry updated, but no SVID other than serial=1 arrived", false)
	r.Event(ForcedRotation, "spiffe", "registration entry updated; serial=2 arrived", false)
	s := r.Summary(time.Now(), nil)
	if s.RotationsFailed != 1 {
		t.Errorf("RotationsFailed = %d, want 1", s.RotationsFailed)
	}
	var out bytes.Buffer
	printPhases(&out, s)
	if !strings.Contains(out.String(), "forced rotations that failed: 1") {
		t.Errorf("output lacks the failed rotations:\n%s", out.String())
	}
}
