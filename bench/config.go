package bench

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/authbench/authbench/bench/floor"
)

// Config says what Run measures and where it writes.
type Config struct {
	// Authbench is the authbench binary to measure (and the stack's Exe).
	Authbench string
	// Pgbench is the pgbench binary ("pgbench" from PATH when empty).
	Pgbench string
	// OutDir is the run directory, e.g. runs/bench-20261123-101500.
	OutDir string
	// Clients is the number of clients of both tools (pgbench -c,
	// authbench --concurrency).
	Clients int
	// Duration is the length of every throughput and open-loop run.
	Duration time.Duration
	// HandshakeDuration is the length of every handshake run.
	HandshakeDuration time.Duration
	// Reps is how many times each pair runs, in alternating order.
	Reps int
	// Accounts is the size of the bank.
	Accounts int
	// Modes are the auth modes of the throughput and open-loop pairs.
	Modes []string
	// HandshakeModes are the auth modes of the handshake pairs; gssapi
	// adds a KDC to the stack.
	HandshakeModes []string
	// Threads is pgbench -j for the throughput and open-loop runs; 0 means
	// min(Clients, number of CPUs). Handshake runs use one thread per
	// client, since pgbench connects synchronously within a thread.
	Threads int
	// RateFraction is the open-loop rate as a fraction of the smaller of
	// the two tools' median throughput (0.5 in the issue).
	RateFraction float64
	// Rate, when positive, is the open-loop rate instead (transactions/s).
	Rate float64
	// Sections are the comparisons to run: throughput, shapes, handshake,
	// openloop, floor.
	Sections []string
	// KeepStack leaves the stack running and its directory in place.
	KeepStack bool
	// Floorclient is the floorclient binary (bench/cmd/floorclient) the
	// floor section runs.
	Floorclient string
	// FloorClients are the floor section's clients: authbench and the
	// levels of bench/floor (pgconn, wire).
	FloorClients []string
	// FloorStyles are the transaction styles of the floor section.
	FloorStyles []string
	// FloorEnvs are the environments the floor section runs each Go
	// client in: space-separated NAME=value settings, "" for none
	// (e.g. "GOMAXPROCS=1").
	FloorEnvs []string
}

// DefaultConfig returns the settings `make bench` uses.
func DefaultConfig() Config {
	return Config{
		Pgbench: defaultPgbench(), Clients: 8, Duration: 15 * time.Second, HandshakeDuration: 10 * time.Second,
		Reps: 3, Accounts: 10000, Modes: []string{"cert", "password"},
		HandshakeModes: []string{"cert", "password", "gssapi"}, RateFraction: 0.5,
		Sections:     []string{sectionThroughput, sectionShapes, sectionHandshake, sectionOpenLoop},
		FloorClients: defaultFloorClients, FloorStyles: defaultFloorStyles, FloorEnvs: defaultFloorEnvs,
	}
}

// Sections of the comparison.
const (
	sectionThroughput = "throughput"
	sectionShapes     = "shapes" // every transaction style against pgbench in the same statements and round trips
	sectionHandshake  = "handshake"
	sectionOpenLoop   = "openloop"
	sectionFloor      = "floor" // the cheapest Go clients (bench/floor) and authbench against pgbench, per style and environment
)

var allSections = []string{sectionThroughput, sectionShapes, sectionHandshake, sectionOpenLoop, sectionFloor}

// knownModes are the auth modes both tools can use on the local stack.
var knownModes = []string{"cert", "password", "gssapi"}

// Validate checks the configuration and says what to change.
func (c *Config) Validate() error {
	switch {
	case c.Authbench == "":
		return fmt.Errorf("no authbench binary: pass --authbench")
	case c.OutDir == "":
		return fmt.Errorf("no output directory: pass --out")
	case c.Clients < 1:
		return fmt.Errorf("--clients must be at least 1, got %d", c.Clients)
	case c.Duration < time.Second || c.HandshakeDuration < time.Second:
		return fmt.Errorf("--duration and --handshake-duration must be at least 1s")
	case c.Reps < 1:
		return fmt.Errorf("--reps must be at least 1, got %d", c.Reps)
	case c.Accounts < 2:
		return fmt.Errorf("--accounts must be at least 2, got %d", c.Accounts)
	case c.RateFraction <= 0 || c.RateFraction > 1:
		return fmt.Errorf("--rate-fraction must be in (0, 1], got %g", c.RateFraction)
	case c.Threads < 0:
		return fmt.Errorf("--threads must not be negative, got %d", c.Threads)
	case c.Rate < 0:
		return fmt.Errorf("--rate must not be negative, got %g", c.Rate)
	case c.runs(sectionOpenLoop) && !c.runs(sectionThroughput) && c.Rate == 0:
		return fmt.Errorf("the open-loop rate comes from the throughput runs: add throughput to --sections or pass --rate")
	}
	for _, s := range c.Sections {
		if !slices.Contains(allSections, s) {
			return fmt.Errorf("unknown section %q: use %v", s, allSections)
		}
	}
	for _, m := range append(slices.Clone(c.Modes), c.HandshakeModes...) {
		if !slices.Contains(knownModes, m) {
			return fmt.Errorf("unknown auth mode %q: use %v", m, knownModes)
		}
	}
	if err := c.validateFloor(); err != nil {
		return err
	}
	if slices.Contains(c.Modes, "gssapi") {
		return fmt.Errorf("--modes takes cert and password; gssapi is measured in --handshake-modes only")
	}
	return nil
}

// defaultPgbench is the newest PostgreSQL's own pgbench when the Debian
// layout has one (/usr/bin/pgbench is a Perl wrapper whose start-up would
// count as pgbench's CPU time), else pgbench from PATH.
func defaultPgbench() string {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	best, bestVer := "pgbench", -1
	for _, p := range found {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		if err == nil && v > bestVer {
			best, bestVer = p, v
		}
	}
	return best
}

// threads returns pgbench -j for the throughput and open-loop runs.
func (c *Config) threads() int {
	if c.Threads > 0 {
		return min(c.Threads, c.Clients)
	}
	return min(c.Clients, runtime.NumCPU())
}

// wantsGSS reports whether the stack needs a KDC.
func (c *Config) wantsGSS() bool {
	return c.runs(sectionHandshake) && slices.Contains(c.HandshakeModes, "gssapi")
}

// runs reports whether the section is to run.
func (c *Config) runs(section string) bool { return slices.Contains(c.Sections, section) }

// validateFloor checks the floor section's settings when it runs.
func (c *Config) validateFloor() error {
	if !c.runs(sectionFloor) {
		return nil
	}
	clients := append([]string{toolAuthbench}, floor.Levels...)
	for _, cl := range c.FloorClients {
		if !slices.Contains(clients, cl) {
			return fmt.Errorf("unknown floor client %q: use %v", cl, clients)
		}
		if cl != toolAuthbench && c.Floorclient == "" {
			return fmt.Errorf("no floorclient binary for the floor section: pass --floorclient")
		}
	}
	for _, st := range c.FloorStyles {
		if _, ok := shapeRoundTrips[st]; !ok {
			return fmt.Errorf("unknown floor style %q: use %v", st, styles)
		}
	}
	if len(c.FloorClients) == 0 || len(c.FloorStyles) == 0 || len(c.FloorEnvs) == 0 {
		return fmt.Errorf("the floor section needs at least one client, style and environment")
	}
	return nil
}
