package haproxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/authbench/authbench/internal/proc"
	"github.com/authbench/authbench/stack"
)

// haproxyConfig renders HAProxy's configuration: TCP passthrough (TLS ends
// at PostgreSQL) with a plain TCP health check, since pgsql-check cannot
// pass SCRAM or cert authentication.
func (s lb) haproxyConfig() string {
	lb := strconv.Itoa(s.LBPort)
	binds := "    bind 127.0.0.1:" + lb + "\n"
	if s.LBIPv6 {
		binds += "    bind [::1]:" + lb + "\n"
	}
	return fmt.Sprintf(`# Written by `+"`authbench stack up`"+` on every run.
global
    maxconn %d
    stats socket %s mode 600 level admin

defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h

frontend pg_lb
%s    default_backend %s

backend %s
    balance roundrobin
    server %s 127.0.0.1:%d check inter 2s

listen stats
    mode http
    bind 127.0.0.1:%d
    timeout client 30s
    stats enable
    stats uri /stats
    stats refresh 5s
`, maxConn(s.State), s.h.Socket, binds, stack.HAProxyBackend, stack.HAProxyBackend, stack.HAProxyServer, s.PGPort, s.h.StatsPort)
}

// upHAProxy writes the configuration and starts HAProxy unless it runs.
func (s lb) upHAProxy(ctx context.Context, bin string, log io.Writer) error {
	if len(s.h.Socket) > stack.MaxSocketPath {
		return fmt.Errorf("state dir %s is too deep for HAProxy's unix socket (%d > %d characters): use a shorter path", s.Dir, len(s.h.Socket), stack.MaxSocketPath)
	}
	if err := os.MkdirAll(s.haproxyDir(), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", s.haproxyDir(), err)
	}
	if _, err := proc.RaiseFDLimit(fdsFor(maxConn(s.State)), fmt.Sprintf("HAProxy's maxconn %d", maxConn(s.State))); err != nil {
		return err
	}
	old, _ := os.ReadFile(s.h.Config)
	conf := s.haproxyConfig()
	if err := stack.WriteFileAtomic(s.h.Config, []byte(conf), 0o600, nil); err != nil {
		return err
	}
	if pid := s.haproxyPID(); proc.Alive(pid) {
		fmt.Fprintf(log, "haproxy: already running (pid %d) on %s:%d\n", pid, s.LBHost, s.LBPort)
		if string(old) == conf {
			return nil
		}
		fmt.Fprintf(log, "haproxy: configuration changed (maxconn %d), restarting\n", maxConn(s.State))
		if err := s.stopHAProxy(log); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "haproxy: starting on %s:%d, stats %s\n", s.LBHost, s.LBPort, s.h.StatsURL())
	return s.startHAProxy(ctx, bin)
}

// startHAProxy starts HAProxy as a daemon and waits for its frontend.
func (s lb) startHAProxy(ctx context.Context, bin string) error {
	logf, err := os.OpenFile(s.haproxyLogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open haproxy log: %w", err)
	}
	defer logf.Close()
	start, _ := logf.Seek(0, io.SeekEnd)
	_ = os.Remove(s.h.Socket) // a stale socket from a killed HAProxy
	cmd := proc.Command(ctx, nil, s.haproxyDir(), bin, "-f", s.h.Config, "-D", "-p", s.haproxyPIDFile())
	// A file, not a pipe: the daemon keeps stderr open, a pipe would never close.
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("haproxy did not start: %s (see %s)", s.logSince(start), s.haproxyLogFile())
	}
	return waitListening(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(s.LBPort)), haproxyStartTimeout)
}

// haproxyStartTimeout bounds how long HAProxy's frontend may take to accept
// connections after the daemon started; generous for busy machines.
const haproxyStartTimeout = 60 * time.Second

// logSince returns the telling line HAProxy logged after offset start:
// its first ALERT (the cause; later ones say it is exiting).
func (s lb) logSince(start int64) string {
	data, err := os.ReadFile(s.haproxyLogFile())
	if err != nil || int64(len(data)) < start {
		return "no output"
	}
	text := string(data[start:])
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "[ALERT]") {
			return strings.Join(strings.Fields(line), " ")
		}
	}
	if line := proc.LastLine(text); line != "" {
		return line
	}
	return "no output"
}

// waitListening waits until addr accepts TCP connections.
func waitListening(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped waiting for %s to listen: %w", addr, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s: see the haproxy log", addr, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopHAProxy stops HAProxy (SIGTERM, SIGKILL as a last resort).
func (s lb) stopHAProxy(log io.Writer) error {
	pid := s.haproxyPID()
	if !proc.Alive(pid) {
		return nil
	}
	fmt.Fprintf(log, "haproxy: stopping (pid %d)\n", pid)
	if err := proc.Stop(pid, syscall.SIGTERM, stack.StopTimeout); err != nil {
		return err
	}
	_ = os.Remove(s.haproxyPIDFile())
	return nil
}

// haproxyPID returns HAProxy's pid from its pid file (0: none).
func (s lb) haproxyPID() int { return proc.ReadPID(s.haproxyPIDFile()) }

// command sends one command to HAProxy's runtime API (for example
// "disable server pg/pg1" or "show servers state") and returns its answer.
func (s lb) command(cmd string) (string, error) {
	conn, err := net.DialTimeout("unix", s.h.Socket, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("reach haproxy's runtime API: %w (is the stack up?)", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, strings.TrimSpace(cmd)+"\n"); err != nil {
		return "", fmt.Errorf("send haproxy command: %w", err)
	}
	var out bytes.Buffer
	if _, err := io.Copy(&out, bufio.NewReader(conn)); err != nil {
		return "", fmt.Errorf("read haproxy answer: %w", err)
	}
	answer := strings.TrimSpace(out.String())
	if strings.HasPrefix(answer, "Unknown command") || strings.HasPrefix(answer, "Permission denied") {
		return answer, fmt.Errorf("haproxy rejected %q: %s", cmd, firstLine(answer))
	}
	return answer, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func (s lb) haproxyDir() string { return filepath.Dir(s.h.Config) }

func (s lb) haproxyPIDFile() string { return filepath.Join(s.haproxyDir(), "haproxy.pid") }

func (s lb) haproxyLogFile() string { return filepath.Join(s.haproxyDir(), "haproxy.log") }
