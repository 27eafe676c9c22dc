package postgres

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack"
)

// DefaultMaxConnections is PostgreSQL's max_connections unless `stack up
// --max-connections` asks for more.
const DefaultMaxConnections = 400

// maxMaxConnections bounds --max-connections: every connection is a server
// process.
const maxMaxConnections = 20000

// Settings are the flags of `stack up` PostgreSQL owns.
type Settings struct {
	// MaxConnections is max_connections (0: keep the stack's).
	MaxConnections int
}

// AddFlags registers --max-connections; left unset, a stack keeps its
// limit.
func (component) AddFlags(fs *pflag.FlagSet) func() (any, error) {
	n := fs.Int("max-connections", 0, fmt.Sprintf("client connections the stack holds: PostgreSQL's max_connections and HAProxy's maxconn, open-file limits raised to match (default %d; a fleet of 2,000 connections needs 2100)", DefaultMaxConnections))
	return func() (any, error) {
		if !fs.Changed("max-connections") {
			return nil, nil
		}
		if *n < 20 || *n > maxMaxConnections {
			return nil, fmt.Errorf("--max-connections must be between 20 and %d, got %d", maxMaxConnections, *n)
		}
		return Settings{MaxConnections: *n}, nil
	}
}

// MaxConnections returns the stack's max_connections.
func MaxConnections(st *stack.State) int {
	if st.MaxConnections > 0 {
		return st.MaxConnections
	}
	return DefaultMaxConnections
}

// mergeLimits stores in st the limit cfg asks for; a stack keeps its own
// otherwise.
func mergeLimits(cfg stack.Config, st *stack.State) {
	if v, ok := cfg.Settings(Name); ok {
		if s, ok := v.(Settings); ok && s.MaxConnections > 0 {
			st.MaxConnections = s.MaxConnections
		}
	}
}

// maxConnLine is the postgresql.conf line of the stack's limit.
func (s cluster) maxConnLine() string {
	return fmt.Sprintf("max_connections = %d", MaxConnections(s.State))
}

// needsRestart reports whether the running server's configuration file
// names another max_connections than the stack's, which only a restart
// changes.
func (s cluster) needsRestart() bool {
	data, err := os.ReadFile(filepath.Join(s.pg.DataDir, pgConfInclude))
	return err == nil && !strings.Contains(string(data), s.maxConnLine()+"\n")
}
