package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// procResult is what one child process did.
type procResult struct {
	Stdout string        // its standard output, also in the log file
	CPU    time.Duration // user + system time from its rusage
	Wall   time.Duration
}

// runProc runs name with args and env, writes the command line, stdout and
// stderr to logPath and returns stdout and the child's CPU time. Cancelling
// ctx interrupts the child (SIGINT), as Ctrl-C would.
func runProc(ctx context.Context, logPath string, env []string, name string, args ...string) (procResult, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return procResult{}, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "$ %s %s\n", name, strings.Join(args, " "))
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdout = io.MultiWriter(&stdout, logf)
	cmd.Stderr = logf
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	start := time.Now()
	err = cmd.Run()
	res := procResult{Stdout: stdout.String(), Wall: time.Since(start)}
	if cmd.ProcessState != nil {
		res.CPU = cpuTime(cmd.ProcessState)
	}
	if err != nil {
		return res, fmt.Errorf("%s failed: %v (see %s)", name, err, logPath)
	}
	return res, nil
}

// cpuTime is a finished process's user plus system time.
func cpuTime(ps *os.ProcessState) time.Duration {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return ps.UserTime() + ps.SystemTime()
	}
	tv := func(t syscall.Timeval) time.Duration {
		return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
	}
	return tv(ru.Utime) + tv(ru.Stime)
}
