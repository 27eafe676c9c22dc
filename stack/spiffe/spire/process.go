package spire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/authbench/authbench/internal/proc"
)

// ReadyTimeout bounds the wait for the server to answer and for the agent
// to attest; generous, since a busy machine must not fail a start.
const ReadyTimeout = 50 * time.Second

// StopTimeout is how long Stop waits before SIGKILL.
const StopTimeout = 20 * time.Second

// PID returns the pid of ServerProc or AgentProc (0 if none).
func (c Config) PID(p string) int { return proc.ReadPID(c.PIDFile(p)) }

// Running reports whether ServerProc or AgentProc is alive.
func (c Config) Running(p string) bool { return proc.Alive(c.PID(p)) }

// StartServer writes server.conf and starts the server unless it runs;
// a running server whose configuration changed is restarted. It returns
// once the server's admin API answers.
func (c Config) StartServer(ctx context.Context, log io.Writer) error {
	conf := filepath.Join(c.Dir, "server", "server.conf")
	if err := os.MkdirAll(filepath.Join(c.Dir, "server", "data"), 0o700); err != nil {
		return fmt.Errorf("spire-server: %w", err)
	}
	changed, err := writeIfChanged(conf, c.serverConfig(), 0o600)
	if err != nil {
		return fmt.Errorf("spire-server: %w", err)
	}
	if c.Running(ServerProc) {
		if !changed {
			fmt.Fprintf(log, "spire-server: already running (pid %d)\n", c.PID(ServerProc))
			return c.waitServer(ctx, c.PID(ServerProc), 0)
		}
		fmt.Fprintln(log, "spire-server: configuration changed, restarting")
		if err := c.Stop(ServerProc, log); err != nil {
			return err
		}
	}
	started, err := c.start(ctx, ServerProc, c.Bins.Server, "run", "-config", conf)
	if err != nil {
		return err
	}
	return c.waitServer(ctx, started.PID, started.LogOffset)
}

// waitServer waits until `spire-server healthcheck` passes.
func (c Config) waitServer(ctx context.Context, pid int, offset int64) error {
	return c.waitReady(ctx, ServerProc, pid, offset, func() bool {
		_, err := c.CLI(ctx, "healthcheck")
		return err == nil
	})
}

// StartAgent starts the agent unless it runs: it writes the server's
// bundle for the agent's bootstrap and a fresh join token (used only when
// the agent has no valid saved SVID), and returns once the agent serves
// the Workload API.
func (c Config) StartAgent(ctx context.Context, log io.Writer) error {
	if c.Running(AgentProc) {
		fmt.Fprintf(log, "spire-agent: already running (pid %d)\n", c.PID(AgentProc))
		return c.waitAgent(ctx, c.PID(AgentProc), 0)
	}
	bundle, err := c.Bundle(ctx)
	if err != nil {
		return err
	}
	if _, err := writeIfChanged(c.BootstrapBundle(), string(bundle), 0o644); err != nil {
		return fmt.Errorf("spire-agent: %w", err)
	}
	token, err := c.JoinToken(ctx)
	if err != nil {
		return err
	}
	tokenFile := filepath.Join(c.Dir, "agent", "join_token")
	if _, err := writeIfChanged(tokenFile, token, 0o600); err != nil {
		return fmt.Errorf("spire-agent: %w", err)
	}
	conf := filepath.Join(c.Dir, "agent", "agent.conf")
	if _, err := writeIfChanged(conf, c.agentConfig(tokenFile), 0o600); err != nil {
		return fmt.Errorf("spire-agent: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(c.Dir, "agent", "data"), 0o700); err != nil {
		return fmt.Errorf("spire-agent: %w", err)
	}
	_ = os.Remove(c.AgentSocket()) // a stale socket of a killed agent
	started, err := c.start(ctx, AgentProc, c.Bins.Agent, "run", "-config", conf)
	if err != nil {
		return err
	}
	return c.waitAgent(ctx, started.PID, started.LogOffset)
}

// waitAgent waits until `spire-agent healthcheck` passes on the Workload
// API socket (the agent has attested and serves).
func (c Config) waitAgent(ctx context.Context, pid int, offset int64) error {
	return c.waitReady(ctx, AgentProc, pid, offset, func() bool {
		return exec.CommandContext(ctx, c.Bins.Agent, "healthcheck", "-socketPath", c.AgentSocket()).Run() == nil
	})
}

// waitReady waits until healthy passes for process name (pid), reading
// its log from offset for the reason when it exits first.
func (c Config) waitReady(ctx context.Context, name string, pid int, offset int64, healthy func() bool) error {
	return proc.WaitReady(ctx, proc.Ready{
		Name: name, PID: pid, LogFile: c.LogFile(name), LogOffset: offset,
		Timeout: ReadyTimeout, Every: 200 * time.Millisecond,
		Probe: func(string) bool { return healthy() },
	})
}

// start launches bin detached with its pid and log files in Dir.
func (c Config) start(ctx context.Context, name, bin string, args ...string) (proc.Started, error) {
	if bin == "" {
		return proc.Started{}, errors.New(name + ": no binary (spirebin.Find)")
	}
	cmd := proc.Command(context.WithoutCancel(ctx), nil, c.Dir, bin, args...)
	return proc.Start(proc.Spec{Name: name, Cmd: cmd, LogFile: c.LogFile(name), PIDFile: c.PIDFile(name)})
}

// Stop stops ServerProc or AgentProc (SIGTERM, SIGKILL as a last resort)
// and removes its pid file; the agent's socket goes with it.
func (c Config) Stop(p string, log io.Writer) error {
	pid := c.PID(p)
	if proc.Alive(pid) {
		fmt.Fprintf(log, "%s: stopping (pid %d)\n", p, pid)
		if err := proc.Stop(pid, syscall.SIGTERM, StopTimeout); err != nil {
			return fmt.Errorf("stop %s: %w", p, err)
		}
	}
	_ = os.Remove(c.PIDFile(p))
	if p == AgentProc {
		_ = os.Remove(c.AgentSocket())
	}
	return nil
}
