package kdc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/authbench/authbench/internal/proc"
)

const (
	startTimeout = 60 * time.Second // generous: a busy machine must not fail stack up
	stopTimeout  = 10 * time.Second
	pollEvery    = 20 * time.Millisecond
)

// sbinDirs are searched after PATH: non-root users often lack /usr/sbin.
var sbinDirs = []string{"/usr/sbin", "/usr/local/sbin", "/sbin"}

// lookBinary finds an MIT Kerberos program on PATH or in the sbin directories.
func lookBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range sbinDirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("kdc: %s not found on PATH or in /usr/sbin: install the Debian packages krb5-kdc krb5-admin-server krb5-user (make deps)", name)
}

// env returns the environment for every Kerberos command run on dir: the
// process environment with KRB5_CONFIG and KRB5_KDC_PROFILE pointing into dir,
// the C locale for parseable output, and an empty in-memory credential cache
// so kadmin.local never reads the caller's tickets.
func env(dir string) []string {
	return append(os.Environ(),
		"KRB5_CONFIG="+filepath.Join(dir, krb5ConfFile),
		"KRB5_KDC_PROFILE="+filepath.Join(dir, kdcConfFile),
		"KRB5CCNAME=MEMORY:authbench-kdc-admin",
		"LC_ALL=C",
	)
}

// readPID returns the pid in dir's pid file, or 0 when there is none.
func readPID(dir string) int { return proc.ReadPID(filepath.Join(dir, pidFile)) }

// alive reports whether pid is a live krb5kdc. A zombie counts as gone: the
// daemon is reparented to pid 1, which need not reap it. A pid reused by
// another program counts as gone too.
func alive(pid int) bool { return proc.Alive(pid) && proc.Comm(pid) == "krb5kdc" }

// freePort returns a port on 127.0.0.1 that is free for both TCP and UDP.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("kdc: no free TCP port on 127.0.0.1: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if portFree(port) {
			return port, nil
		}
	}
	return 0, errors.New("kdc: found no port free for both TCP and UDP on 127.0.0.1: set Config.Port")
}

// portFree reports whether port can be bound on 127.0.0.1 for TCP and UDP.
func portFree(port int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	u.Close()
	return true
}

// startDaemon runs krb5kdc in daemon mode: the first process sets up the
// sockets, forks, writes the pid file and exits, so bind errors come back as
// its exit status. Setpgid keeps it out of the caller's process group.
func startDaemon(ctx context.Context, bin, dir string, s state) error {
	_ = os.Remove(filepath.Join(dir, pidFile))
	out, err := os.OpenFile(filepath.Join(dir, outFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("kdc: create %s: %w", outFile, err)
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, bin, "-r", s.Realm, "-P", filepath.Join(dir, pidFile))
	cmd.Dir, cmd.Env = dir, env(dir)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kdc: krb5kdc failed to start on 127.0.0.1:%d (%v): %s (if the port is taken, set another Config.Port or 0)", s.Port, err, lastLine(dir))
	}
	return nil
}

// waitReady waits until the daemon's pid file names a live krb5kdc and its TCP
// port accepts connections. It returns the pid.
func waitReady(parent context.Context, dir string, port int) (int, error) {
	ctx, cancel := context.WithTimeout(parent, startTimeout)
	defer cancel()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		pid := readPID(dir)
		if pid > 0 && !alive(pid) {
			return 0, fmt.Errorf("kdc: krb5kdc (pid %d) exited right after start: %s", pid, lastLine(dir))
		}
		if pid > 0 && dialOK(ctx, addr) {
			return pid, nil
		}
		select {
		case <-ctx.Done():
			if err := parent.Err(); err != nil { // the caller gave up, not the timeout
				return 0, fmt.Errorf("kdc: stopped waiting for krb5kdc on %s: %w", addr, err)
			}
			return 0, fmt.Errorf("kdc: krb5kdc did not answer on %s within %s: %s", addr, startTimeout, lastLine(dir))
		case <-time.After(pollEvery):
		}
	}
}

func dialOK(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: 200 * time.Millisecond}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// stopPID sends SIGTERM, then SIGKILL after stopTimeout, and waits until pid
// is gone; a pid that is no krb5kdc (any more) is left alone.
func stopPID(pid int) error {
	if !alive(pid) {
		return nil
	}
	if err := proc.Stop(pid, syscall.SIGTERM, stopTimeout); err != nil {
		return fmt.Errorf("kdc: stop krb5kdc: %w", err)
	}
	return nil
}

// lastLine returns the telling last line of the startup output, else of
// the KDC log, to explain a failed start. Neither holds secrets.
func lastLine(dir string) string {
	for _, name := range []string{outFile, logFile} {
		if l := proc.FileTail(filepath.Join(dir, name)); l != "" {
			return l
		}
	}
	return "no output; see " + filepath.Join(dir, logFile)
}
