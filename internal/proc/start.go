package proc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// Command builds a detached command (own process group, so servers survive
// the CLI exiting) with a minimal environment plus env, run in dir as cred
// when cred is not nil.
func Command(ctx context.Context, cred *syscall.Credential, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C", "LANG=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Run runs cmd to completion and, on failure, returns what failed with the
// most telling line of its output.
func Run(cmd *exec.Cmd, what string) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if line := LastLine(out.String()); line != "" {
			return fmt.Errorf("%s failed: %s", what, line)
		}
		return fmt.Errorf("%s failed: %w", what, err)
	}
	return nil
}

// Spec says how Start runs a server.
type Spec struct {
	// Name names the server in errors, e.g. "prometheus".
	Name string
	// Cmd is the command, usually from Command; Start sets its output.
	Cmd *exec.Cmd
	// LogFile receives the server's stdout and stderr (appended, 0600).
	LogFile string
	// DiscardStdout drops stdout (a banner that repeats a secret).
	DiscardStdout bool
	// PIDFile is where Start writes the server's pid.
	PIDFile string
}

// Started is a server Start launched.
type Started struct {
	// PID is the server's process id.
	PID int
	// LogOffset is the log's size before the server wrote to it.
	LogOffset int64
}

// Start launches spec's command detached with its output in the log file,
// reaps it should it exit while the caller still runs, and writes its pid
// file. It does not wait for the server to serve: see WaitReady.
func Start(spec Spec) (Started, error) {
	logf, err := os.OpenFile(spec.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return Started{}, fmt.Errorf("open %s log: %w", spec.Name, err)
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, io.SeekEnd)
	spec.Cmd.Stdout, spec.Cmd.Stderr = logf, logf
	if spec.DiscardStdout {
		spec.Cmd.Stdout = nil
	}
	if err := spec.Cmd.Start(); err != nil {
		return Started{}, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	pid := spec.Cmd.Process.Pid
	go spec.Cmd.Wait() // reap it if it dies while we still run
	if err := os.WriteFile(spec.PIDFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return Started{}, fmt.Errorf("write %s pid file: %w", spec.Name, err)
	}
	return Started{PID: pid, LogOffset: offset}, nil
}

// Ready is what WaitReady asks of a server.
type Ready struct {
	// Name names the server in errors.
	Name string
	// PID is the server's pid: its exit ends the wait with an error.
	PID int
	// LogFile and LogOffset say where the server's output of this start
	// begins; a failure quotes its telling last line.
	LogFile   string
	LogOffset int64
	// Probe reports whether the server serves; log is the output of this
	// start so far.
	Probe func(log string) bool
	// Timeout bounds the wait; Every is the polling interval (default 50ms).
	Timeout, Every time.Duration
}

// WaitReady polls r.Probe until it succeeds, the process exits, ctx ends
// or r.Timeout passes.
func WaitReady(ctx context.Context, r Ready) error {
	every := r.Every
	if every <= 0 {
		every = 50 * time.Millisecond
	}
	deadline := time.Now().Add(r.Timeout)
	for {
		out := logSince(r.LogFile, r.LogOffset)
		if r.Probe(out) {
			return nil
		}
		if !Alive(r.PID) {
			return fmt.Errorf("%s exited at start: %s (see %s)", r.Name, LastLine(logSince(r.LogFile, r.LogOffset)), r.LogFile)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped waiting for %s to become ready: %w (see %s)", r.Name, err, r.LogFile)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not become ready in %s (see %s)", r.Name, r.Timeout, r.LogFile)
		}
		time.Sleep(every)
	}
}

// logSince returns the log's content after offset ("" when unreadable).
func logSince(path string, offset int64) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(data[min(offset, int64(len(data))):])
}
