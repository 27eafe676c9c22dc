package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopTimeout is how long Down waits for a process to exit before SIGKILL.
const stopTimeout = 20 * time.Second

// command builds a detached command (own process group, so servers survive
// the CLI exiting) that runs as cred when cred is not nil.
func command(ctx context.Context, cred *syscall.Credential, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C", "LANG=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs cmd and, on failure, returns what failed with the most telling
// line of its output.
func run(cmd *exec.Cmd, what string) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if line := lastLine(out.String()); line != "" {
			return fmt.Errorf("%s failed: %s", what, line)
		}
		return fmt.Errorf("%s failed: %w", what, err)
	}
	return nil
}

// lastLine returns the last line that looks like an error, or else the last
// non-empty line.
func lastLine(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		// PostgreSQL's log prefix (time, pid) is noise: keep "FATAL: ...".
		for _, mark := range []string{"FATAL:", "PANIC:", "ERROR:"} {
			if j := strings.Index(lines[i], mark); j >= 0 {
				return strings.Join(strings.Fields(lines[i][j:]), " ")
			}
		}
		if strings.Contains(lines[i], "ALERT") || strings.Contains(lines[i], "error") {
			return strings.TrimSpace(lines[i])
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// fileTail returns the telling last line of a log file ("" if unreadable).
func fileTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(data) > 64<<10 {
		data = data[len(data)-64<<10:]
	}
	return lastLine(string(data))
}

// readPID reads the first line of a pid file; 0 when there is none.
func readPID(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// alive reports whether pid is a live process (zombies count as gone: an
// orphaned daemon may never be reaped when PID 1 does not reap).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !os.IsNotExist(err)
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// waitGone waits until pid has exited or timeout passes.
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// kill sends sig to pid's process group when pid leads one (daemons call
// setsid), so the server's children go too; otherwise to pid alone.
func kill(pid int, sig syscall.Signal) {
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
		_ = syscall.Kill(-pid, sig)
		return
	}
	_ = syscall.Kill(pid, sig)
}

// stopPID asks pid to exit with sig, waits, and SIGKILLs it as a last resort.
func stopPID(pid int, sig syscall.Signal, timeout time.Duration) error {
	if !alive(pid) {
		return nil
	}
	kill(pid, sig)
	return ensureGone(pid, timeout)
}

// ensureGone waits for pid to exit, then SIGKILLs its group if it has not.
func ensureGone(pid int, timeout time.Duration) error {
	if waitGone(pid, timeout) {
		return nil
	}
	kids := children(pid) // PostgreSQL's children run in sessions of their own
	kill(pid, syscall.SIGKILL)
	for _, k := range kids {
		_ = syscall.Kill(k, syscall.SIGKILL)
	}
	if waitGone(pid, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("process %d survived SIGKILL: stop it by hand (kill -9 %d)", pid, pid)
}

// children returns the pids whose parent is pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if parentOf(child) == pid {
			kids = append(kids, child)
		}
	}
	return kids
}

// parentOf returns pid's parent pid from /proc (0 when unknown).
func parentOf(pid int) int {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(stat[i+1:])) // state, ppid, ...
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}
