package spiffe

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/spiffe/spiffeissuer"
)

// Serve runs the stack's built-in SPIFFE Workload API in the foreground
// until ctx ends; SIGUSR1 forces a rotation. `stack up` starts it detached
// and waits for its ready line.
func (component) Serve(ctx context.Context, st *stack.State, stdout io.Writer) error {
	s := Of(st)
	if s == nil {
		return &stack.StackError{Dir: st.Dir, Component: Name, Err: stack.ErrComponentOff}
	}
	cfg := s.IssuerConfig()
	if socketAnswers(cfg.SocketPath) {
		return &stack.StackError{Dir: st.Dir, Component: Name, Err: stack.ErrInUse, Detail: "another Workload API already serves " + s.Endpoint()}
	}
	iss, err := spiffeissuer.New(cfg)
	if err != nil {
		return fmt.Errorf("spiffe issuer: %w (check the stack's settings, or remove %s to start a fresh CA)", err, cfg.Dir)
	}
	return serveIssuer(ctx, iss, s, stdout)
}

// serveIssuer serves iss, prints the ready line once the socket answers and
// rotates on SIGUSR1.
func serveIssuer(ctx context.Context, iss *spiffeissuer.Issuer, st *State, stdout io.Writer) error {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	done := make(chan error, 1)
	go func() { done <- iss.Serve(ctx) }()
	if err := waitSocket(st.SocketPath, done); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s spiffe workload api on %s, trust domain %s, svid ttl %s, bundle %s, pid %d\n",
		stack.ReadyPrefix, st.Endpoint(), st.TrustDomain, st.TTL, iss.BundlePath(), os.Getpid())
	for {
		select {
		case <-usr1:
			iss.Rotate()
			fmt.Fprintf(stdout, "%s rotated the SVIDs on SIGUSR1\n", time.Now().UTC().Format(time.RFC3339Nano))
		case err := <-done:
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s stopped\n", time.Now().UTC().Format(time.RFC3339Nano))
			return nil
		}
	}
}

// socketTimeout bounds how long the issuer's Workload API socket may take to
// accept connections; generous, since a busy machine must not fail it.
const socketTimeout = 60 * time.Second

// waitSocket waits until path accepts connections or Serve fails.
func waitSocket(path string, done <-chan error) error {
	deadline := time.Now().Add(socketTimeout)
	for !socketAnswers(path) {
		select {
		case err := <-done:
			if err == nil {
				return fmt.Errorf("stopped before the Workload API was ready")
			}
			return err
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the Workload API socket %s did not open within %s", path, socketTimeout)
		}
	}
	return nil
}

// socketAnswers reports whether a server accepts connections on path.
func socketAnswers(path string) bool {
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
