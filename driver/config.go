package driver

import (
	"time"

	"github.com/authbench/authbench/fix"
)

// Config is how the driver runs the load.
type Config struct {
	Concurrency    int           // workers
	Duration       time.Duration // measured window after the ramp; 0 = until MaxOps or interrupted
	Ramp           time.Duration // warm-up: workers start spread over it; left out of the statistics
	MaxOps         int64         // stop after this many ops; 0 = no limit
	MaxRate        float64       // open loop: ops/s over all workers; 0 = closed loop
	MaxRetries     int           // retries of one transaction before it counts as failed
	TolerateErrors bool          // keep running after errors instead of stopping at the first
	Seed           uint64        // worker i's RNG is seeded with Seed + i
	DisplayEvery   time.Duration // how often a per-second line is printed (multiple of a second)
	StopGrace      time.Duration // how long in-flight ops may finish after the stop
	ConnPerTxn     bool          // open a new connection for every transaction (like pgbench -C)
	ConnectOnly    bool          // handshake: each op opens and closes a connection, no workload
	RetryProtocol  string        // ProtocolFull or ProtocolSavepoint; "" is ProtocolFull
	// Instances is how many application instances the workers are dealt
	// over (Run.Pools); 0 or 1: one, on Run.DB.
	Instances int
	// PoolSize is each instance's pool size (0: one connection per worker).
	PoolSize int
}

// Validate checks the configuration and says what to change; the error is
// a *fix.Error naming the setting.
func (c *Config) Validate() error {
	switch {
	case c.Concurrency < 1:
		return invalid("concurrency", "must be at least 1, got %d", c.Concurrency)
	case c.Duration < 0:
		return invalid("duration", "must not be negative, got %s", c.Duration)
	case c.Ramp < 0:
		return invalid("ramp", "must not be negative, got %s", c.Ramp)
	case c.MaxOps < 0:
		return invalid("max-ops", "must not be negative, got %d", c.MaxOps)
	case c.MaxRate < 0:
		return invalid("max-rate", "must not be negative, got %g", c.MaxRate)
	case c.MaxRetries < 0:
		return invalid("max-retries", "must not be negative, got %d", c.MaxRetries)
	case c.RetryProtocol != "" && c.RetryProtocol != ProtocolFull && c.RetryProtocol != ProtocolSavepoint:
		return invalid("retry-protocol", "must be %s or %s, got %q", ProtocolFull, ProtocolSavepoint, c.RetryProtocol)
	case c.Instances < 0:
		return invalid("instances", "must not be negative, got %d", c.Instances)
	case c.PoolSize < 0:
		return invalid("pool-size", "must not be negative, got %d", c.PoolSize)
	case c.DisplayEvery < time.Second || c.DisplayEvery%time.Second != 0:
		return invalid("display-every", "must be a whole number of seconds, at least 1s, got %s", c.DisplayEvery)
	}
	return nil
}

// invalid returns the error of setting name: "<name> <what>", the name a
// fix.Flag.
func invalid(name, what string, args ...any) error {
	return &fix.Error{Step: "settings", What: fix.Textf("%v "+what, append([]any{fix.Flag(name)}, args...)...)}
}
