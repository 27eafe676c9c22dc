package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
)

// fleetSweep is how often a fleet's idle connections are offered to their
// pool's PrepareConn (driver.Fleet.Sweep).
const fleetSweep = time.Second

// fleetFill bounds the wait for a fleet's pools to open every connection.
const fleetFill = 2 * time.Minute

// isFleet reports whether the run is a fleet: several instances, or an
// instance whose pool is held at --pool-size.
func (o *runOpts) isFleet() bool { return o.drv.Instances > 1 || o.drv.PoolSize > 0 }

// poolSize is each instance's pool: --pool-size, or one connection per
// worker the instance runs.
func (o *runOpts) poolSize() int {
	if o.drv.PoolSize > 0 {
		return o.drv.PoolSize
	}
	n := max(o.drv.Instances, 1)
	return max((o.drv.Concurrency+n-1)/n, 1)
}

// openFleet opens --instances instances, each with its own pool and its
// own auth mode (instance 1 the mode the flags configured, the others new
// ones from the same flags), proves instance 1's connection and waits
// until every pool holds its connections.
func (o *runOpts) openFleet(ctx context.Context, reg *results.Registry, stdout io.Writer) (*driver.Fleet, *pool, error) {
	first, err := o.mode()
	if err != nil {
		return nil, nil, err
	}
	meta, _ := authmodes.Lookup(o.auth) // o.mode checked the name
	cfgs := make([]*pgxpool.Config, max(o.drv.Instances, 1))
	fl, err := driver.OpenFleet(ctx, driver.FleetSpec{
		Instances: len(cfgs), PoolSize: o.poolSize(),
		Open: func(ctx context.Context, id int) (*pgxpool.Config, io.Closer, error) {
			m := first
			if id > 1 {
				var err error // instances open concurrently: nothing shared
				if m, err = authmodes.NewInstance(meta, o.instanceArgs); err != nil {
					return nil, nil, err
				}
			}
			cfg, err := o.poolConfig(ctx, m, reg, results.InstanceEvents{Registry: reg, ID: id})
			if err != nil {
				m.Close()
				return nil, nil, err
			}
			cfgs[id-1] = cfg
			return cfg, m, nil
		},
	})
	if err != nil {
		return nil, nil, err
	}
	p, err := o.prove(ctx, fl.Instances[0].Pool, cfgs[0], first)
	if err == nil {
		fillCtx, cancel := context.WithTimeout(ctx, fleetFill)
		err = fl.Fill(fillCtx, 100*time.Millisecond)
		cancel()
	}
	if err != nil {
		fl.Close()
		return nil, nil, err
	}
	reg.SetInstances(len(fl.Instances))
	fmt.Fprintf(stdout, "authbench: fleet of %d instances × %d connections open (%d), each with its own %s credentials\n",
		len(fl.Instances), o.poolSize(), fl.OpenConns(), o.auth)
	return fl, p, nil
}

// rotateFleet forces one rotation of the whole fleet: the issuer's (once,
// for the modes whose issuer rotates) then each instance's part at its
// offset over --rotate-spread: its own renewal when its mode renews
// (authmodes.Rotator), and a recycled pool unless the mode retires
// connections itself (authmodes.ConnRetirer). The fleet's event opens the
// rotation's window; each instance's InstanceRotated event counts toward
// the share it reached.
func rotateFleet(ctx context.Context, o *runOpts, fl *driver.Fleet, p *pool, reg *results.Registry) error {
	detail := "each instance renews"
	if _, renews := p.mode.(authmodes.Rotator); !renews {
		d, err := issuerRotation(ctx, o.auth, p.user)
		if err != nil {
			return err
		}
		detail = d + "; each instance reloads"
	}
	reg.Event(results.ForcedRotation, o.auth, fmt.Sprintf("%s: %d instances, spread %s", detail, len(fl.Instances), o.rotateSpread), true)
	driver.RotateSpread(ctx, len(fl.Instances), o.rotateSpread, func(ctx context.Context, k int) {
		in := fl.Instances[k]
		m, ok := in.Creds.(authmodes.Mode)
		if !ok {
			return // not opened by openFleet
		}
		what := "pool recycled onto the new credentials"
		if r, ok := m.(authmodes.Rotator); ok {
			d, err := r.ForceRotation(ctx)
			if err != nil {
				if ctx.Err() == nil {
					reg.InstanceEvent(in.ID, "rotation-failed", o.auth, oneLine(err.Error()), false)
				}
				return
			}
			what = d
		}
		if rr, ok := m.(authmodes.ConnRetirer); !ok || !rr.RetiresConnections() {
			in.Pool.Reset()
		}
		reg.InstanceEvent(in.ID, results.InstanceRotated, o.auth, what, false)
	})
	return nil
}
