package stack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/authbench/authbench/internal/proc"
)

// A component's processes live in DIR/<name>: <name>.pid and <name>.log.
// A built-in server is a stand-in the stack runs when the real one is not
// there: `Exe stack serve-<name> --dir DIR` (see Server), run detached. It
// prints ReadyPrefix once it serves.

// ReadyPrefix starts the line a built-in server prints when it serves.
const ReadyPrefix = "ready:"

// ComponentDir returns DIR/<name>, the component's own directory.
func (s *State) ComponentDir(name string) string { return filepath.Join(s.Dir, name) }

// PIDFile returns the pid file of the component's process.
func (s *State) PIDFile(name string) string {
	return filepath.Join(s.ComponentDir(name), name+".pid")
}

// LogFile returns the log of the component's process.
func (s *State) LogFile(name string) string {
	return filepath.Join(s.ComponentDir(name), name+".log")
}

// PID returns the pid of the component's process (0 if none).
func (s *State) PID(name string) int { return proc.ReadPID(s.PIDFile(name)) }

// Running reports whether the component's process is alive.
func (s *State) Running(name string) bool { return proc.Alive(s.PID(name)) }

// StartServer starts the component's built-in server,
// `Exe stack serve-<name> --dir Dir args…`, unless it is running, and waits
// until it logs its ready line.
func (s *State) StartServer(ctx context.Context, name string, log io.Writer, args ...string) error {
	return s.StartServerAs(ctx, name, nil, log, args...)
}

// StartServerAs is StartServer with the server running as owner (nil: the
// current user), who then owns the component's directory.
func (s *State) StartServerAs(ctx context.Context, name string, owner *Owner, log io.Writer, args ...string) error {
	if pid := s.PID(name); proc.Alive(pid) {
		fmt.Fprintf(log, "%s: already running (pid %d)\n", name, pid)
		return nil
	}
	if s.Exe == "" {
		return fmt.Errorf("%s: no authbench binary to run the built-in server with (set Config.Exe)", name)
	}
	if err := os.MkdirAll(s.ComponentDir(name), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", s.ComponentDir(name), err)
	}
	var cred *syscall.Credential
	if owner != nil {
		cred = &syscall.Credential{Uid: uint32(owner.UID), Gid: uint32(owner.GID)}
		if err := os.Chown(s.ComponentDir(name), owner.UID, owner.GID); err != nil {
			return fmt.Errorf("give %s to uid %d: %w", s.ComponentDir(name), owner.UID, err)
		}
	}
	cmd := proc.Command(context.WithoutCancel(ctx), cred, s.Dir, s.Exe, append([]string{"stack", "serve-" + name, "--dir", s.Dir}, args...)...)
	started, err := proc.Start(proc.Spec{Name: name, Cmd: cmd, LogFile: s.LogFile(name), PIDFile: s.PIDFile(name)})
	if err != nil {
		return err
	}
	return proc.WaitReady(ctx, proc.Ready{
		Name: name, PID: started.PID, LogFile: s.LogFile(name), LogOffset: started.LogOffset,
		Probe: func(out string) bool { return strings.Contains(out, ReadyPrefix) }, Timeout: ReadyTimeout,
	})
}

// ReadyTimeout bounds how long a component's server may take to become
// ready; generous, since a busy machine must not fail `stack up`.
const ReadyTimeout = 60 * time.Second

// StopTimeout is how long Down waits for a process to exit before SIGKILL.
const StopTimeout = 20 * time.Second

// StopServer stops the component's process (SIGTERM, SIGKILL as a last
// resort) and removes its pid file.
func (s *State) StopServer(name string, log io.Writer) error {
	pid := s.PID(name)
	if !proc.Alive(pid) {
		return nil
	}
	fmt.Fprintf(log, "%s: stopping (pid %d)\n", name, pid)
	if err := proc.Stop(pid, syscall.SIGTERM, StopTimeout); err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	_ = os.Remove(s.PIDFile(name))
	return nil
}

// SignalBuiltin sends sig to the component's process (for example SIGUSR1
// to the Vault stand-in to seal it); fault tests stop and start them with
// StopBuiltin and Up.
func (s *State) SignalBuiltin(name string, sig syscall.Signal) error {
	pid := s.PID(name)
	if !proc.Alive(pid) {
		return &StackError{Dir: s.Dir, Component: name, Err: ErrNotRunning}
	}
	return syscall.Kill(pid, sig)
}

// StopBuiltin stops the component's process; `Up` starts it again.
func (s *State) StopBuiltin(name string) error { return s.StopServer(name, io.Discard) }
