package results

import (
	"testing"
	"time"
)

func TestTickStormColumns(t *testing.T) {
	start := time.Now()
	r := NewRegistry([]string{"transfer"}, false, start)
	for range 3 {
		r.ConnOpened(10 * time.Millisecond) // before the start: the pool's first connections
	}
	r.Restart(start)
	for i := range 100 {
		r.ConnOpened(time.Duration(i+1) * time.Millisecond)
	}
	r.ConnFailed()
	r.ConnClosed()
	tk := r.Tick(start.Add(time.Second), false)
	if tk.Connects != 100 || tk.ConnFailures != 1 || tk.OpenConns != 102 {
		t.Fatalf("tick: %d connects, %d failures, %d open; want 100, 1, 102", tk.Connects, tk.ConnFailures, tk.OpenConns)
	}
	if tk.HandshakeP99 < 98 || tk.HandshakeP99 > 100 {
		t.Fatalf("handshake p99 = %.1f ms, want the 99th of 1..100 ms", tk.HandshakeP99)
	}
	next := r.Tick(start.Add(2*time.Second), false)
	if next.Connects != 0 || next.ConnFailures != 0 || next.HandshakeP99 != 0 || next.OpenConns != 102 {
		t.Fatalf("a quiet second: %+v", next)
	}
}

func TestRotationStormColumns(t *testing.T) {
	var ticks []TickPoint
	for s := 1; s <= 30; s++ {
		p := TickPoint{Elapsed: float64(s), OpsPerSec: 100, Connects: 2, HandshakeP99: 5, TxnP99: 3}
		if s == 21 {
			p.Connects, p.HandshakeP99, p.TxnP99, p.ConnFailures = 400, 80, 40, 7
		}
		ticks = append(ticks, p)
	}
	ev := []Event{{Elapsed: 20.2, Kind: ForcedRotation, Source: "vault", Rotation: true}}
	for id := 1; id <= 4; id++ {
		ev = append(ev, Event{Elapsed: 20.2 + float64(id)*3, Kind: InstanceRotated, Source: "vault", Instance: id},
			Event{Elapsed: 20.3 + float64(id)*3, Kind: "rotation", Source: "vault", Rotation: true, Instance: id})
	}
	rs := RotationImpacts(ev, ticks)
	if len(rs) != 1 {
		t.Fatalf("%d rotation rows, want 1: an instance's own events are the fleet row's", len(rs))
	}
	shareRotated(rs, 4)
	r := rs[0]
	if r.PeakConnectsS != 400 || r.ConnFailures != 7 || r.HandshakeP99 != 80 || r.TxnP99 != 40 || r.InstancesRotated != 3 || r.InstancesShare != 0.75 {
		t.Fatalf("row %+v: want peak 400/s, 7 failed connects, handshake p99 80, txn p99 40, 3 of 4 instances (the 4th is past the window)", r)
	}
}
