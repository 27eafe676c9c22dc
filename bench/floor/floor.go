// Package floor measures the cheapest Go clients of the bank transfer, to
// know what a round trip costs in Go on a machine before asking authbench
// for less: the same statements in the same round trips as pgbench's
// transfer-<style>.sql and `authbench run bank --txn-style <style>`, one
// goroutine per client, on connections pgconn opens (TLS, the stack's
// load balancer), at two levels:
//
//   - LevelPgconn: pgconn directly, every statement prepared once, its
//     arguments encoded once per transfer into buffers the client reuses,
//     ExecStatement for a round trip of one statement and ExecBatch for a
//     pipeline: no pgx.Conn, no statement cache, no pgx.Batch.
//   - LevelWire: the floor: the connection taken over from pgconn
//     (Hijack) after preparing, each round trip pre-encoded
//     Bind/Execute/Sync bytes with the arguments copied into place, one
//     write, and the replies parsed only as far as ReadyForQuery.
//
// bench runs it (bench/cmd/floorclient) in alternating pairs against
// pgbench, the process's CPU time per round trip and TPS as ratios.
package floor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Levels of the client.
const (
	LevelPgconn = "pgconn"
	LevelWire   = "wire"
)

// Levels are the levels, the cheaper last.
var Levels = []string{LevelPgconn, LevelWire}

// Config says what Run sends and how long.
type Config struct {
	// Conn connects one client (pgconn.ParseConfig; it is used by one
	// connect at a time).
	Conn *pgconn.Config
	// Level is LevelPgconn or LevelWire.
	Level string
	// Style is the transaction style (workloads.StyleSingle, …).
	Style string
	// Clients is the number of connections, one goroutine each.
	Clients int
	// Duration is how long the clients send transfers, after connecting.
	Duration time.Duration
	// Accounts and MaxAmount draw the transfers, as the bank's.
	Accounts, MaxAmount int64
	// MaxRetries is how often a transfer is retried after a
	// serialization failure or deadlock.
	MaxRetries int
	// RunID is recorded in the transfers.
	RunID [16]byte
	// Seed seeds the clients' random numbers.
	Seed uint64
	// LockThread wires each client's goroutine to its own OS thread
	// (runtime.LockOSThread), to measure what that does to the wake-ups.
	LockThread bool
}

// Result is what the clients did in Duration.
type Result struct {
	// Committed counts the transfers that ended without an error:
	// committed, or (app style) rolled back for lack of funds, as
	// pgbench's script does and counts.
	Committed int64 `json:"committed"`
	// Insufficient counts those rolled back for lack of funds (app style).
	Insufficient int64 `json:"insufficient"`
	// Retries counts the retried attempts.
	Retries int64 `json:"retries"`
	// Failed counts the transfers that failed after their last retry.
	Failed int64 `json:"failed"`
	// Seconds is the measured window, connecting excluded.
	Seconds float64 `json:"seconds"`
	// TPS is Committed per second of the window.
	TPS float64 `json:"tps"`
	// RoundTrips is how many round trips a transfer takes without errors.
	RoundTrips int `json:"round_trips"`
}

func (c *Config) validate() error {
	switch {
	case c.Conn == nil:
		return fmt.Errorf("no connection settings")
	case c.Level != LevelPgconn && c.Level != LevelWire:
		return fmt.Errorf("unknown level %q: use %s or %s", c.Level, LevelPgconn, LevelWire)
	case c.Clients < 1:
		return fmt.Errorf("clients must be at least 1, got %d", c.Clients)
	case c.Duration <= 0:
		return fmt.Errorf("duration must be positive, got %s", c.Duration)
	case c.Accounts < 2 || c.MaxAmount < 1:
		return fmt.Errorf("accounts must be at least 2 and the largest amount at least 1")
	}
	return nil
}

// Run connects the clients, lets them send transfers for cfg.Duration and
// closes them. An error of any connection ends the run with that error.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	p, err := newPlan(cfg.Style)
	if err != nil {
		return Result{}, err
	}
	clients := make([]*client, 0, cfg.Clients)
	defer func() {
		for _, c := range clients {
			_ = c.rt.close()
		}
	}()
	for i := range cfg.Clients {
		c, err := connect(ctx, &cfg, p, uint64(i))
		if err != nil {
			return Result{}, fmt.Errorf("client %d: %w", i+1, err)
		}
		clients = append(clients, c)
	}
	var stop atomic.Bool
	errs := make([]error, len(clients))
	var wg sync.WaitGroup
	start := time.Now()
	timer := time.AfterFunc(cfg.Duration, func() { stop.Store(true) })
	defer timer.Stop()
	defer context.AfterFunc(ctx, func() { stop.Store(true) })()
	for i, c := range clients {
		wg.Go(func() {
			if cfg.LockThread {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			for !stop.Load() && errs[i] == nil {
				errs[i] = c.transfer()
			}
		})
	}
	wg.Wait()
	res := Result{Seconds: time.Since(start).Seconds(), RoundTrips: p.roundTrips()}
	for i, c := range clients {
		if errs[i] != nil {
			return res, fmt.Errorf("client %d: %w", i+1, errs[i])
		}
		res.Committed += c.counts.Committed
		res.Insufficient += c.counts.Insufficient
		res.Retries += c.counts.Retries
		res.Failed += c.counts.Failed
	}
	res.TPS = float64(res.Committed) / res.Seconds
	return res, ctx.Err()
}

// connect opens one client's connection and prepares its statements.
func connect(ctx context.Context, cfg *Config, p *plan, n uint64) (*client, error) {
	conn, err := pgconn.ConnectConfig(ctx, cfg.Conn)
	if err != nil {
		return nil, err
	}
	c := &client{
		plan: p, args: newSlotBuf(cfg.RunID), rng: rand.New(rand.NewPCG(cfg.Seed, n)), runID: cfg.RunID,
		accounts: cfg.Accounts, maxAmount: cfg.MaxAmount, maxRetries: cfg.MaxRetries,
	}
	if cfg.Level == LevelWire {
		c.rt, err = newWireTrip(ctx, conn, p, c.args)
	} else {
		c.rt, err = newPgconnTrip(ctx, conn, p, c.args)
	}
	if err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	return c, nil
}
