package spiffe

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/authbench/authbench/stack"
)

// The bundle watcher keeps PostgreSQL's client CAs current: SPIRE adds its
// next CA to the trust bundle (at half of the CA's lifetime) before it
// signs with it, and drops the old one after it expired. The watcher runs
// as `authbench stack serve-spiffe`, follows the bundle over the agent's
// Workload API with go-spiffe, and on every change writes BundleFile and
// has the stack rewrite PostgreSQL's ssl_ca_file and reload it.

// Serve runs the bundle watcher in the foreground until ctx ends.
func (component) Serve(ctx context.Context, st *stack.State, stdout io.Writer) error {
	s := Of(st)
	if s == nil {
		return &stack.StackError{Dir: st.Dir, Component: Name, Err: stack.ErrComponentOff}
	}
	td, err := spiffeid.TrustDomainFromString(s.TrustDomain)
	if err != nil {
		return err
	}
	w := &bundleWatcher{st: st, s: s, td: td, out: stdout, ready: make(chan struct{})}
	return serveWatch(ctx, s.Endpoint(), "spiffe bundle watcher", w, w.ready, stdout,
		fmt.Sprintf("spiffe bundle watcher on %s, writing %s, pid %d", s.Endpoint(), s.BundleFile, os.Getpid()))
}

// serveWatch follows the Workload API at addr with w until ctx ends,
// printing ReadyPrefix and ready once w closes readyCh, and a line when
// it stops: the foreground of the component's watchers (Serve).
func serveWatch(ctx context.Context, addr, name string, w workloadapi.X509ContextWatcher, readyCh <-chan struct{}, stdout io.Writer, ready string) error {
	done := make(chan error, 1)
	go func() { done <- workloadapi.WatchX509Context(ctx, w, workloadapi.WithAddr(addr)) }()
	select {
	case <-readyCh:
		fmt.Fprintf(stdout, "%s %s\n", stack.ReadyPrefix, ready)
	case err := <-done:
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := <-done; ctx.Err() == nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(stdout, "%s stopped\n", now())
	return nil
}

// bundleWatcher is the workloadapi.X509ContextWatcher of Serve.
type bundleWatcher struct {
	st    *stack.State
	s     *State
	td    spiffeid.TrustDomain
	out   io.Writer
	ready chan struct{}
	once  sync.Once
}

// OnX509ContextUpdate writes a changed bundle and makes PostgreSQL trust it.
func (w *bundleWatcher) OnX509ContextUpdate(c *workloadapi.X509Context) {
	b, ok := c.Bundles.Get(w.td)
	if !ok {
		return
	}
	// Ready before following: a change now waits for the Up that starts
	// the watcher to release the stack's lock (EnsureUser takes it).
	w.once.Do(func() { close(w.ready) })
	if err := w.follow(bundlePEM(b), len(b.X509Authorities())); err != nil {
		fmt.Fprintf(w.out, "%s spiffe: could not follow the trust bundle: %v\n", now(), err)
	}
}

// bundlePEM renders a bundle's X.509 authorities as PEM.
func bundlePEM(b *x509bundle.Bundle) []byte {
	var out bytes.Buffer
	for _, ca := range b.X509Authorities() {
		_ = pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	}
	return out.Bytes()
}

// follow writes data to BundleFile when it changed and has the stack
// rewrite PostgreSQL's client CAs from it (reloading PostgreSQL).
func (w *bundleWatcher) follow(data []byte, cas int) error {
	if old, err := os.ReadFile(w.s.BundleFile); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := stack.WriteFileAtomic(w.s.BundleFile, data, 0o644, nil); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.st.EnsureUser(ctx, stack.User{Name: w.s.User, Method: stack.MethodCert}); err != nil {
		return err
	}
	if err := w.st.WriteServerTrust(); err != nil { // with --server-svid
		return err
	}
	fmt.Fprintf(w.out, "%s spiffe: trust bundle changed (%d CAs): PostgreSQL's client CAs follow\n", now(), cas)
	return nil
}

// OnX509ContextWatchError logs a broken stream; go-spiffe retries.
func (w *bundleWatcher) OnX509ContextWatchError(err error) {
	fmt.Fprintf(w.out, "%s spiffe: Workload API: %v (retrying)\n", now(), err)
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }
