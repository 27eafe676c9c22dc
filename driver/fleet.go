package driver

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/internal/proc"
)

// Instance is one application instance of a fleet: its own pool over its
// own credential source (its own Vault login and lease, Kerberos login,
// SVID watcher or certificate reload).
type Instance struct {
	// ID is the instance's number, 1-based (the Instance of its events).
	ID int
	// Pool is the instance's pool.
	Pool *pgxpool.Pool
	// Creds is the credential source the instance's pool was configured
	// with; the fleet closes it after the pool.
	Creds io.Closer
}

// FleetSpec says how to open a fleet.
type FleetSpec struct {
	// Instances is how many application instances; at least 1.
	Instances int
	// PoolSize is each instance's pool: that many connections opened at
	// the start and kept, idle ones included, as an application server's
	// pool keeps them.
	PoolSize int
	// Open returns instance id's pool configuration, configured with a
	// credential source of its own, and that source. The fleet sets the
	// pool's size.
	Open func(ctx context.Context, id int) (*pgxpool.Config, io.Closer, error)
	// Parallel is how many instances open at once (0: 8).
	Parallel int
}

// Fleet is a set of application instances in one driver process.
type Fleet struct {
	Instances []*Instance
	poolSize  int
}

// fdReserve is the open files a driver needs besides its connections.
const fdReserve = 256

// fleetStatementCache caps each fleet connection's statement and
// description caches: pgx's default of 512 preallocates about 54 KiB per
// connection, a fleet's largest cost when idle, while a workload prepares
// a few dozen statements at most (a larger set is only re-prepared).
const fleetStatementCache = 128

// fleetHealthCheck is how often a fleet pool tops itself up to PoolSize
// after connections were closed (pgxpool's default is a minute).
const fleetHealthCheck = time.Second

// OpenFleet opens instance 1, so that a bad setting is said once, then
// the others, Parallel at a time; on an error it closes those it opened
// and returns the first. An instance's slot frees once its pool is full
// (or fillSlot passed), so that no more than Parallel pools connect at once
// rather than every connection of the fleet in one burst; the last pools
// fill in the background: Fill waits.
func OpenFleet(ctx context.Context, spec FleetSpec) (*Fleet, error) {
	if spec.Instances < 1 || spec.PoolSize < 1 {
		return nil, invalid("instances", "and the pool size must be at least 1, got %d and %d", spec.Instances, spec.PoolSize)
	}
	need := uint64(spec.Instances*spec.PoolSize) + fdReserve
	if _, err := proc.RaiseFDLimit(need, fmt.Sprintf("a fleet of %d connections", spec.Instances*spec.PoolSize)); err != nil {
		return nil, err
	}
	par := spec.Parallel
	if par <= 0 {
		par = 8
	}
	f := &Fleet{Instances: make([]*Instance, spec.Instances), poolSize: spec.PoolSize}
	var err error
	if f.Instances[0], err = openInstance(ctx, spec, 1); err != nil {
		return nil, err
	}
	sem := make(chan struct{}, par)
	errs := make([]error, spec.Instances)
	var wg sync.WaitGroup
	for i := 1; i < spec.Instances; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if f.Instances[i], errs[i] = openInstance(ctx, spec, i+1); errs[i] != nil {
				errs[i] = fmt.Errorf("instance %d: %w", i+1, errs[i])
				return
			}
			waitFull(ctx, f.Instances[i].Pool, spec.PoolSize)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// fillSlot bounds how long an instance keeps its opening slot while its
// pool fills; one still short then fills on in the background.
const fillSlot = 30 * time.Second

// waitFull waits until p holds n connections, fillSlot has passed or ctx
// ends.
func waitFull(ctx context.Context, p *pgxpool.Pool, n int) {
	deadline := time.Now().Add(fillSlot)
	for poolOpen(p) < n && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

func openInstance(ctx context.Context, spec FleetSpec, id int) (*Instance, error) {
	cfg, creds, err := spec.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns, cfg.MinConns = int32(spec.PoolSize), int32(spec.PoolSize)
	cfg.HealthCheckPeriod = fleetHealthCheck
	cc := cfg.ConnConfig
	cc.StatementCacheCapacity = min(cc.StatementCacheCapacity, fleetStatementCache)
	cc.DescriptionCacheCapacity = min(cc.DescriptionCacheCapacity, fleetStatementCache)
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		creds.Close()
		return nil, err
	}
	return &Instance{ID: id, Pool: p, Creds: creds}, nil
}

// Pools returns every instance's pool, in instance order.
func (f *Fleet) Pools() []*pgxpool.Pool {
	out := make([]*pgxpool.Pool, len(f.Instances))
	for i, in := range f.Instances {
		out[i] = in.Pool
	}
	return out
}

// OpenConns returns the connections the fleet's pools hold open now, idle
// or in use (not those still being opened).
func (f *Fleet) OpenConns() int {
	n := 0
	for _, in := range f.Instances {
		n += poolOpen(in.Pool)
	}
	return n
}

// poolOpen returns the connections p holds open, idle or in use.
func poolOpen(p *pgxpool.Pool) int {
	st := p.Stat()
	return int(st.IdleConns() + st.AcquiredConns())
}

// Fill waits until every pool holds its PoolSize connections, polling
// every interval; it gives up when ctx ends, saying how many are open.
func (f *Fleet) Fill(ctx context.Context, interval time.Duration) error {
	want := len(f.Instances) * f.poolSize
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n := f.OpenConns(); n >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the fleet opened %d of its %d connections (%d instances × %d): %w",
				f.OpenConns(), want, len(f.Instances), f.poolSize, ctx.Err())
		case <-t.C:
		}
	}
}

// Close closes every pool, then its credential source.
func (f *Fleet) Close() {
	for _, in := range f.Instances {
		if in != nil {
			in.Pool.Close()
			in.Creds.Close()
		}
	}
}

// InstanceOf returns the index of the instance worker i runs on: workers
// are dealt round-robin over n instances.
func InstanceOf(worker, n int) int {
	if n <= 1 {
		return 0
	}
	return worker % n
}

// Sweep offers every idle connection of every pool to the pool's
// PrepareConn once every interval until ctx ends, as an application
// server's pool validates its idle connections: a mode that retires the
// connections of superseded credentials there (authmodes.ConnRetirer) so
// retires idle ones too, at their jittered moment, and the pool tops
// itself up with new ones. One goroutine for the whole fleet.
func (f *Fleet) Sweep(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, in := range f.Instances {
			for _, c := range in.Pool.AcquireAllIdle(ctx) {
				c.Release()
			}
		}
	}
}
