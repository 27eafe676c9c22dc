package driver

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestSpreadOffsets(t *testing.T) {
	for _, off := range SpreadOffsets(5, 0) {
		if off != 0 {
			t.Fatalf("spread 0: %v, want every instance at once", SpreadOffsets(5, 0))
		}
	}
	got := SpreadOffsets(4, 8*time.Second)
	want := []time.Duration{0, 2 * time.Second, 4 * time.Second, 6 * time.Second}
	if !slices.Equal(got, want) {
		t.Fatalf("spread 8s over 4 instances: %v, want %v", got, want)
	}
	if one := SpreadOffsets(1, time.Minute); one[0] != 0 {
		t.Fatalf("one instance rotates at once, got %v", one)
	}
}

func TestRotateSpreadCallsEachInstanceOnceInOrder(t *testing.T) {
	var mu sync.Mutex
	var order []int
	RotateSpread(context.Background(), 6, 30*time.Millisecond, func(_ context.Context, k int) {
		mu.Lock()
		order = append(order, k)
		mu.Unlock()
	})
	slices.Sort(order)
	if !slices.Equal(order, []int{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("instances rotated: %v, want each of 0..5 once", order)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	RotateSpread(ctx, 3, time.Hour, func(context.Context, int) { n.Add(1); cancel() })
	if n.Load() != 1 {
		t.Fatalf("a cancelled spread rotated %d instances, want only the first (due at once)", n.Load())
	}
}

func TestInstanceOf(t *testing.T) {
	counts := map[int]int{}
	for w := range 10 {
		counts[InstanceOf(w, 4)]++
	}
	if counts[0] != 3 || counts[1] != 3 || counts[2] != 2 || counts[3] != 2 {
		t.Fatalf("10 workers over 4 instances: %v, want round-robin 3 3 2 2", counts)
	}
	if InstanceOf(7, 1) != 0 || InstanceOf(7, 0) != 0 {
		t.Fatal("one instance takes every worker")
	}
}

// countingCreds is a credential source that counts its logins and closes.
type countingCreds struct{ logins, closes atomic.Int32 }

func (c *countingCreds) Close() error { c.closes.Add(1); return nil }

func TestOpenFleetGivesEachInstanceItsOwnCredentials(t *testing.T) {
	var mu sync.Mutex
	byID := map[int]*countingCreds{}
	f, err := OpenFleet(context.Background(), FleetSpec{
		Instances: 5, PoolSize: 3,
		Open: func(_ context.Context, id int) (*pgxpool.Config, io.Closer, error) {
			// Nothing listens on port 1: the pools' background connects fail
			// quietly; the test is about who owns which credentials.
			cfg, err := pgxpool.ParseConfig("host=127.0.0.1 port=1 user=u connect_timeout=1")
			if err != nil {
				return nil, nil, err
			}
			c := &countingCreds{}
			c.logins.Add(1)
			mu.Lock()
			byID[id] = c
			mu.Unlock()
			return cfg, c, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Instances) != 5 || len(byID) != 5 {
		t.Fatalf("%d instances, %d credential sources; want 5 and 5", len(f.Instances), len(byID))
	}
	for i, in := range f.Instances {
		if in.ID != i+1 || in.Creds != byID[in.ID] || byID[in.ID].logins.Load() != 1 {
			t.Errorf("instance %d (ID %d) has credentials %p, want its own %p logged in once", i, in.ID, in.Creds, byID[in.ID])
		}
		pc := in.Pool.Config()
		if pc.MaxConns != 3 || pc.MinConns != 3 || pc.ConnConfig.StatementCacheCapacity > fleetStatementCache {
			t.Errorf("instance %d pool: max %d min %d, statement cache %d; want 3, 3 and at most %d",
				in.ID, pc.MaxConns, pc.MinConns, pc.ConnConfig.StatementCacheCapacity, fleetStatementCache)
		}
	}
	f.Close()
	for id, c := range byID {
		if c.closes.Load() != 1 {
			t.Errorf("instance %d credentials closed %d times, want 1", id, c.closes.Load())
		}
	}
}

func TestOpenFleetSaysAFirstInstanceErrorOnce(t *testing.T) {
	calls := 0
	_, err := OpenFleet(context.Background(), FleetSpec{Instances: 4, PoolSize: 1,
		Open: func(context.Context, int) (*pgxpool.Config, io.Closer, error) {
			calls++
			return nil, nil, fmt.Errorf("no CA certificate")
		}})
	if err == nil || err.Error() != "no CA certificate" || calls != 1 {
		t.Fatalf("err %v after %d opens; want the first instance's error alone, after 1", err, calls)
	}
}
