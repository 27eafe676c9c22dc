package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ReadPID reads the first line of a pid file; 0 when there is none.
func ReadPID(path string) int {
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

// Alive reports whether pid is a live process. Zombies count as gone: an
// orphaned daemon may never be reaped when PID 1 does not reap.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	_, state, ok := stat(pid)
	if !ok {
		_, err := os.Stat("/proc/self/stat")
		return err != nil // no procfs (not Linux): kill(0) said it lives
	}
	return state != "Z" && state != "X"
}

// Comm returns pid's command name from /proc ("" when unknown), to tell a
// server from an unrelated process that reused its pid.
func Comm(pid int) string {
	comm, _, _ := stat(pid)
	return comm
}

// stat reads the command name and state from /proc/<pid>/stat.
func stat(pid int) (comm, state string, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", "", false
	}
	return parseStat(string(data))
}

// parseStat extracts the command name and state from a /proc/<pid>/stat
// line, "pid (comm) S ppid ...".
func parseStat(s string) (comm, state string, ok bool) {
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return "", "", false
	}
	rest := strings.Fields(s[closing+1:])
	if len(rest) == 0 {
		return "", "", false
	}
	return s[open+1 : closing], rest[0], true
}

// WaitGone waits until pid has exited or timeout passes.
func WaitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for Alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// Kill sends sig to pid's process group when pid leads one (daemons call
// setsid), so the server's children go too; otherwise to pid alone.
func Kill(pid int, sig syscall.Signal) {
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
		_ = syscall.Kill(-pid, sig)
		return
	}
	_ = syscall.Kill(pid, sig)
}

// Stop asks pid to exit with sig, waits up to timeout, and SIGKILLs it as
// a last resort.
func Stop(pid int, sig syscall.Signal, timeout time.Duration) error {
	if !Alive(pid) {
		return nil
	}
	Kill(pid, sig)
	return EnsureGone(pid, timeout)
}

// EnsureGone waits for pid to exit, then SIGKILLs its group and its
// children (PostgreSQL's run in sessions of their own) if it has not.
func EnsureGone(pid int, timeout time.Duration) error {
	if WaitGone(pid, timeout) {
		return nil
	}
	kids := children(pid)
	Kill(pid, syscall.SIGKILL)
	for _, k := range kids {
		_ = syscall.Kill(k, syscall.SIGKILL)
	}
	if WaitGone(pid, 5*time.Second) {
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
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(data[i+1:])) // state, ppid, ...
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}
