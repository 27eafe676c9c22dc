package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/authbench/authbench/bench/floor"
	"github.com/authbench/authbench/workloads"
)

// The floor section's defaults: the real driver and both floor levels
// (bench/floor), the styles with one and two round trips, with Go's
// default GOMAXPROCS and with one P.
var (
	defaultFloorClients = []string{toolAuthbench, floor.LevelPgconn, floor.LevelWire}
	defaultFloorStyles  = []string{workloads.StyleSingle, workloads.StylePipelined}
	defaultFloorEnvs    = []string{"", "GOMAXPROCS=1"}
)

// runFloor runs the floor section: for every style, client and
// environment, pgbench running the style's script against the client
// sending the same statements in the same round trips.
func (r *Report) runFloor(rc runCtx, log io.Writer) error {
	for _, style := range rc.cfg.FloorStyles {
		for _, env := range rc.cfg.FloorEnvs {
			for _, client := range rc.cfg.FloorClients {
				one := rc
				one.env = strings.Fields(env)
				name := fmt.Sprintf("%s-%s-%s-%s", sectionFloor, client, style, envName(env, "default"))
				shown := fmt.Sprintf("floor: %s, %s, %s, %s", floorClientName(client), style,
					roundTrips(shapeRoundTrips[style]), envName(env, "Go defaults"))
				if _, err := r.pairs(one, name, log, floorRun(client, style), shapeMeasures(style), shown); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// envName names an environment in a section: its settings, or dflt.
func envName(env, dflt string) string {
	if strings.TrimSpace(env) == "" {
		return dflt
	}
	return strings.Join(strings.Fields(env), " ")
}

// floorClientName says which client a floor row measures.
func floorClientName(client string) string {
	switch client {
	case floor.LevelPgconn:
		return "pgconn client"
	case floor.LevelWire:
		return "wire client"
	}
	return "authbench"
}

// floorRun returns the runOne of a floor pair: pgbench running the
// style's script, against authbench (run bank --txn-style) or floorclient
// at a level.
func floorRun(client, style string) runOne {
	if client == toolAuthbench {
		return shapeRun(style)
	}
	return againstScript(style, func(rc *runCtx, rep int) (sample, error) {
		return runFloorclient(rc, rep, client, style)
	})
}

// runFloorclient runs floorclient with pgbench's connection settings
// (libpq's environment) and rc's extra environment, and reads its result.
func runFloorclient(rc *runCtx, rep int, level, style string) (sample, error) {
	env, err := rc.bs.libpqEnv(rc.mode)
	if err != nil {
		return sample{}, err
	}
	outPath := filepath.Join(rc.dir, "floorclient.out")
	load := loadAverage()
	p, err := runProc(rc.ctx, outPath, append(env, rc.env...), rc.cfg.Floorclient,
		"--level", level, "--style", style, "--clients", strconv.Itoa(rc.cfg.Clients),
		"--duration", rc.cfg.Duration.String(), "--accounts", strconv.Itoa(rc.cfg.Accounts),
		"--max-amount", strconv.Itoa(maxAmount), "--max-retries", strconv.Itoa(maxRetries),
		"--run-id", pgbenchRunID, "--seed", strconv.Itoa(rep+1))
	if err != nil {
		return sample{}, err
	}
	var res floor.Result
	if err := json.Unmarshal([]byte(p.Stdout), &res); err != nil {
		return sample{}, fmt.Errorf("floorclient's result: %w (see %s)", err, outPath)
	}
	s := sample{Tool: "floor-" + level, TPS: res.TPS, Committed: res.Committed, Retries: res.Retries, Failed: res.Failed}
	s.finish(p, rc.dir, load)
	return s, nil
}
