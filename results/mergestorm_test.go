package results

import (
	"testing"
	"time"
)

// A merged second carries the storm columns of every driver: connects and
// failures add up, open connections are each run's latest, added, and the
// handshake p99 is the worst driver's.
func TestMergedSecondKeepsStormColumns(t *testing.T) {
	start := time.Unix(1000, 0)
	b := &bucket{sec: 1000, cs: []contribution{
		{run: 0, tick: &Tick{Connects: 30, ConnFailures: 1, OpenConns: 100, HandshakeP99: 12}},
		{run: 0, tick: &Tick{Connects: 5, OpenConns: 110, HandshakeP99: 3}},
		{run: 1, tick: &Tick{Connects: 20, ConnFailures: 2, OpenConns: 50, HandshakeP99: 40}},
	}}
	cum := &cumState{count: map[string]int64{}, errors: map[string]int64{}, retries: map[string]int64{}, conns: make([]int64, 2)}
	got, err := b.merge(nil, start, cum)
	if err != nil {
		t.Fatal(err)
	}
	if got.Connects != 55 || got.ConnFailures != 3 || got.OpenConns != 160 || got.HandshakeP99 != 40 {
		t.Errorf("merged storm columns: connects %d, failures %d, open %d, handshake p99 %v; want 55, 3, 160, 40",
			got.Connects, got.ConnFailures, got.OpenConns, got.HandshakeP99)
	}
}
