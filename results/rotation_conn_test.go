package results

import (
	"bytes"
	"strings"
	"testing"
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
