package stack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A built-in server is a stand-in the stack runs when the real one (SPIRE,
// Vault) is not on PATH: `authbench stack serve-<name> --dir DIR`, run from
// State.Exe as a detached child whose output goes to DIR/<name>/<name>.log.
// It prints ReadyPrefix once it serves.

// ReadyPrefix starts the line a built-in server prints when it serves.
const ReadyPrefix = "ready:"

// builtinDir returns DIR/<name>, the server's own directory.
func (s *State) builtinDir(name string) string { return filepath.Join(s.Dir, name) }

func (s *State) builtinPIDFile(name string) string {
	return filepath.Join(s.builtinDir(name), name+".pid")
}

func (s *State) builtinLog(name string) string {
	return filepath.Join(s.builtinDir(name), name+".log")
}

// builtinPID returns the pid of the built-in server name (0 if none).
func (s *State) builtinPID(name string) int { return readPID(s.builtinPIDFile(name)) }

// startBuiltin starts `Exe stack serve-<name> --dir Dir args…` unless it is
// running, and waits until it logs its ready line.
func (s *State) startBuiltin(ctx context.Context, name string, log io.Writer, args ...string) error {
	if pid := s.builtinPID(name); alive(pid) {
		fmt.Fprintf(log, "%s: already running (pid %d)\n", name, pid)
		return nil
	}
	if s.Exe == "" {
		return fmt.Errorf("%s: no authbench binary to run the built-in server with (set Config.Exe)", name)
	}
	if err := os.MkdirAll(s.builtinDir(name), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", s.builtinDir(name), err)
	}
	logf, err := os.OpenFile(s.builtinLog(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open %s log: %w", name, err)
	}
	defer logf.Close()
	start, _ := logf.Seek(0, io.SeekEnd)
	cmd := command(context.WithoutCancel(ctx), nil, s.Dir, s.Exe, append([]string{"stack", "serve-" + name, "--dir", s.Dir}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	go cmd.Wait() // reap it if it dies while we still run
	if err := os.WriteFile(s.builtinPIDFile(name), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write %s pid file: %w", name, err)
	}
	return s.waitReady(ctx, name, pid, start)
}

// builtinReadyTimeout bounds how long a built-in server may take to log its
// ready line; generous, since a busy machine must not fail `stack up`.
const builtinReadyTimeout = 60 * time.Second

// waitReady waits for the ready line in the server's log after offset start.
func (s *State) waitReady(ctx context.Context, name string, pid int, start int64) error {
	deadline := time.Now().Add(builtinReadyTimeout)
	for {
		data, _ := os.ReadFile(s.builtinLog(name))
		if int64(len(data)) > start {
			text := string(data[start:])
			if strings.Contains(text, ReadyPrefix) {
				return nil
			}
		}
		if !alive(pid) {
			return fmt.Errorf("%s exited at start: %s (see %s)", name, lastLine(string(data[min(start, int64(len(data))):])), s.builtinLog(name))
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped waiting for %s to become ready: %w (see %s)", name, err, s.builtinLog(name))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not become ready in %s (see %s)", name, builtinReadyTimeout, s.builtinLog(name))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopBuiltin stops the built-in server name (SIGTERM, SIGKILL as a last
// resort) and removes its pid file.
func (s *State) stopBuiltin(name string, log io.Writer) error {
	pid := s.builtinPID(name)
	if !alive(pid) {
		return nil
	}
	fmt.Fprintf(log, "%s: stopping (pid %d)\n", name, pid)
	if err := stopPID(pid, syscall.SIGTERM, stopTimeout); err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	_ = os.Remove(s.builtinPIDFile(name))
	return nil
}

// SignalBuiltin sends sig to the built-in server name (for example SIGUSR1
// to the SPIFFE issuer to force a rotation); fault tests stop and start
// them with StopBuiltin and Up.
func (s *State) SignalBuiltin(name string, sig syscall.Signal) error {
	pid := s.builtinPID(name)
	if !alive(pid) {
		return fmt.Errorf("%s is not running: run `authbench stack up`", name)
	}
	return syscall.Kill(pid, sig)
}

// StopBuiltin stops the built-in server name; `Up` starts it again.
func (s *State) StopBuiltin(name string) error { return s.stopBuiltin(name, io.Discard) }
