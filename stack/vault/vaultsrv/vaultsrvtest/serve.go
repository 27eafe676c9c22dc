package vaultsrvtest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Server is what Serve runs: vaultsrv.Server's Serve, asked through this
// interface so that vaultsrv's own tests can use the package without an
// import cycle.
type Server interface {
	Serve(ctx context.Context, ln net.Listener) error
}

// Serving is a server Serve runs on a loopback listener.
type Serving struct {
	// Addr is the listener's host:port.
	Addr string
	// URL is "http://" + Addr.
	URL string

	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// Serve runs srv on a free 127.0.0.1 port until Stop or the end of the
// test, whose cleanup fails the test when Serve returns an error, and
// returns once the server answers /v1/sys/health.
func Serve(t testing.TB, srv Server) *Serving {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Serving{Addr: ln.Addr().String(), URL: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	waitHealth(t, s.URL+"/v1/sys/health")
	return s
}

// Stop ends Serve and returns its error; later calls return the same.
func (s *Serving) Stop() error {
	s.once.Do(func() {
		s.cancel()
		s.err = <-s.done
	})
	return s.err
}

// waitHealth waits until url answers at all (a sealed server answers 503).
func waitHealth(t testing.TB, url string) {
	t.Helper()
	for range 200 {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s does not answer", url)
}
