// Package spire runs a real SPIRE deployment on this machine, as the
// stack's spiffe component and the tests use it: one spire-server (sqlite
// datastore, disk key manager, join-token node attestation, its admin API
// on a unix socket) and one spire-agent (join token, disk key manager, unix
// workload attestor, its Workload API on a unix socket), each started
// detached through internal/proc with its pid and log files in Dir.
// Registration entries, join tokens and the trust bundle go through the
// server's own CLI against its admin socket.
package spire

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/spiffe/spirebin"
)

// Process names: of the pid and log files in Dir and of `stack status`.
const (
	ServerProc = "spire-server"
	AgentProc  = "spire-agent"
)

// AgentPath is the path of the SPIFFE ID every agent of a Config gets
// through its join token, and so the parent of every workload entry: a new
// agent (a restart whose saved SVID expired) serves the same entries.
const AgentPath = "/authbench/agent"

// SyncInterval is how often the agent asks the server for entry changes
// and how often the server reloads its entry cache (SPIRE's defaults are
// 5 s each): a forced rotation (an entry update) reaches the mode within
// about two of these instead of up to ten seconds.
const SyncInterval = time.Second

// AgentTTL is the lifetime of the agent's own SVID: long, so that an agent
// stopped for a while restarts on its saved SVID.
const AgentTTL = time.Hour

// Config is one SPIRE deployment, all of it under Dir.
type Config struct {
	// Dir holds the configurations, data, sockets, pid and log files.
	Dir string
	// TrustDomain is the SPIFFE trust domain, e.g. authbench.test.
	TrustDomain string
	// SVIDTTL is the server's default_x509_svid_ttl.
	SVIDTTL time.Duration
	// CATTL is the server's ca_ttl (SPIRE prepares the next CA at half of
	// it and activates it later); zero is SPIRE's default, 24 h.
	CATTL time.Duration
	// ServerPort is the server's gRPC port on 127.0.0.1, for the agent.
	ServerPort int
	// Bins are the binaries (spirebin.Find).
	Bins spirebin.Binaries
}

// ServerSocket is the server's admin API socket, for its CLI.
func (c Config) ServerSocket() string { return filepath.Join(c.Dir, "server", "api.sock") }

// AgentSocket is the agent's Workload API socket.
func (c Config) AgentSocket() string { return filepath.Join(c.Dir, "agent.sock") }

// Endpoint is the Workload API address, unix://<socket>, as
// SPIFFE_ENDPOINT_SOCKET wants it.
func (c Config) Endpoint() string { return "unix://" + c.AgentSocket() }

// BootstrapBundle is the bundle the agent trusts the server with at its
// first attestation.
func (c Config) BootstrapBundle() string { return filepath.Join(c.Dir, "agent", "bootstrap.pem") }

// PIDFile is the pid file of ServerProc or AgentProc.
func (c Config) PIDFile(proc string) string { return filepath.Join(c.Dir, proc+".pid") }

// LogFile is the log of ServerProc or AgentProc.
func (c Config) LogFile(proc string) string { return filepath.Join(c.Dir, proc+".log") }

// AgentID is the SPIFFE ID of the agent (see AgentPath).
func (c Config) AgentID() string { return "spiffe://" + c.TrustDomain + AgentPath }

// serverConfig renders server.conf.
func (c Config) serverConfig() string {
	data := filepath.Join(c.Dir, "server", "data")
	ca := ""
	if c.CATTL > 0 {
		ca = fmt.Sprintf("  ca_ttl = %q\n", dur(c.CATTL))
	}
	return fmt.Sprintf(`# Written by the stack on every start of the server.
server {
  bind_address = "127.0.0.1"
  bind_port = "%d"
  socket_path = %q
  trust_domain = %q
  data_dir = %q
  log_level = "INFO"
  default_x509_svid_ttl = %q
  agent_ttl = %q
%s  experimental {
    cache_reload_interval = %q
  }
}

plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
      connection_string = %q
    }
  }
  KeyManager "disk" {
    plugin_data {
      keys_path = %q
    }
  }
  NodeAttestor "join_token" {
    plugin_data {}
  }
}
`, c.ServerPort, c.ServerSocket(), c.TrustDomain, data, dur(c.SVIDTTL), dur(AgentTTL), ca, dur(SyncInterval),
		filepath.Join(data, "datastore.sqlite3"), filepath.Join(data, "keys.json"))
}

// agentConfig renders agent.conf; tokenFile holds a fresh join token.
func (c Config) agentConfig(tokenFile string) string {
	data := filepath.Join(c.Dir, "agent", "data")
	return fmt.Sprintf(`# Written by the stack on every start of the agent.
agent {
  data_dir = %q
  log_level = "INFO"
  server_address = "127.0.0.1"
  server_port = "%d"
  socket_path = %q
  trust_bundle_path = %q
  trust_domain = %q
  join_token_file = %q
  experimental {
    sync_interval = %q
  }
}

plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "disk" {
    plugin_data {
      directory = %q
    }
  }
  WorkloadAttestor "unix" {
    plugin_data {}
  }
}
`, data, c.ServerPort, c.AgentSocket(), c.BootstrapBundle(), c.TrustDomain, tokenFile, dur(SyncInterval), data)
}

// dur renders d as SPIRE's configuration parses it (Go durations).
func dur(d time.Duration) string { return d.String() }

// writeIfChanged writes data to path (mode perm) and reports whether it
// changed.
func writeIfChanged(path, data string, perm os.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && string(old) == data {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	return true, stack.WriteFileAtomic(path, []byte(data), perm, nil)
}

// oneLine folds s onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
