package faults

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/authbench/authbench/internal/pgwire"
)

// Drop is one COMMIT the server completed whose reply the client never got.
type Drop struct {
	// At is when the server's CommandComplete was swallowed.
	At time.Time
	// FirstParam is the first parameter of the transaction's first Bind with
	// parameters (for the bank workload: the transfer id, 16 bytes binary or
	// 36 bytes text).
	FirstParam []byte
}

// CommitDropper is a PostgreSQL proxy that, once every Every COMMITs and at
// most Drops times in all, forwards a COMMIT, waits until the server
// completes it and then cuts the connection instead of relaying the reply.
type CommitDropper struct {
	upstream  string
	serverTLS *tls.Config
	clientTLS *tls.Config
	every     int
	drops     int

	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	commits  int
	inFlight int
	nextAt   int
	dropped  []Drop
	errs     []error

	failSQL  string // a statement whose text contains it is answered with 40001 (FailStatement)
	failLeft int    // how many more times
	failed   []string
}

// NewCommitDropper listens on a free port of 127.0.0.1 and relays to
// upstream (host:port of the load balancer): serverTLS is what it presents
// to clients (the database's own certificate), clientTLS how it verifies
// upstream. Close stops it.
func NewCommitDropper(upstream string, serverTLS, clientTLS *tls.Config, every, drops int) (*CommitDropper, error) {
	if every < 1 || drops < 1 {
		return nil, fmt.Errorf("commit dropper: every and drops must be at least 1")
	}
	return newProxy(upstream, serverTLS, clientTLS, every, drops)
}

// newProxy starts the proxy; drops 0 drops no COMMIT.
func newProxy(upstream string, serverTLS, clientTLS *tls.Config, every, drops int) (*CommitDropper, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &CommitDropper{upstream: upstream, serverTLS: serverTLS, clientTLS: clientTLS,
		every: every, drops: drops, nextAt: every, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// FailStatement makes the proxy answer the next times statements whose
// text contains sql with a serialization failure (SQLSTATE 40001), as
// CockroachDB answers a statement whose transaction must restart: the
// server runs the statement, the proxy replaces its CommandComplete with
// the error, drops the rest of the reply up to ReadyForQuery and marks
// the transaction failed there. The work stays in the server's transaction
// until the client rolls it back (to a savepoint, or whole). A statement
// is best alone before its Sync, as in one round trip per statement.
func (p *CommitDropper) FailStatement(sql string, times int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failSQL, p.failLeft = sql, times
}

// Failed returns the texts of the statements answered with 40001 so far.
func (p *CommitDropper) Failed() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.failed...)
}

// takeFailure reports whether the statement sql, just completed by the
// server, is to be answered with 40001.
func (p *CommitDropper) takeFailure(sql string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failLeft <= 0 || p.failSQL == "" || !strings.Contains(sql, p.failSQL) {
		return false
	}
	p.failLeft--
	p.failed = append(p.failed, sql)
	return true
}

// Port returns the port clients connect to.
func (p *CommitDropper) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Drops returns the COMMITs dropped so far.
func (p *CommitDropper) Drops() []Drop {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Drop(nil), p.dropped...)
}

// Errors returns what went wrong on the proxy's side (not the client's
// disconnects): a failed upstream connection, an unparsable message.
func (p *CommitDropper) Errors() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.errs...)
}

// Close stops listening, cuts every connection and waits for the relays.
func (p *CommitDropper) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *CommitDropper) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.track(c, true)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.track(c, false)
			defer c.Close()
			if err := p.serve(c); err != nil {
				p.note(err)
			}
		}()
	}
}

func (p *CommitDropper) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *CommitDropper) note(err error) {
	p.mu.Lock()
	p.errs = append(p.errs, err)
	p.mu.Unlock()
}

// serve negotiates TLS with the client and upstream, passes the startup
// message on and relays both ways until either side closes.
func (p *CommitDropper) serve(raw net.Conn) error {
	client, startup, err := p.acceptClient(raw)
	if client == nil || err != nil {
		return err
	}
	upRaw, up, err := p.dialUpstream()
	if err != nil {
		return err
	}
	p.track(upRaw, true)
	defer p.track(upRaw, false)
	defer upRaw.Close()
	if _, err := up.Write(startup); err != nil {
		return fmt.Errorf("commit dropper: send startup upstream: %w", err)
	}
	r := &relay{p: p, clientRaw: raw, upRaw: upRaw}
	done := make(chan struct{})
	go func() { defer close(done); r.serverToClient(up, client) }()
	r.clientToServer(client, up)
	raw.Close()
	upRaw.Close()
	<-done
	return nil
}

// acceptClient answers the client's SSLRequest (declining GSS encryption,
// passing a CancelRequest on), ends its TLS and reads its startup
// message. A nil conn without error means the client went away or only
// cancelled.
func (p *CommitDropper) acceptClient(raw net.Conn) (*tls.Conn, []byte, error) {
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	defer raw.SetDeadline(time.Time{})
	first, err := readUntyped(raw)
	if err == nil && requestCode(first) == pgwire.GSSEncRequestCode {
		if _, err = raw.Write([]byte{'N'}); err == nil {
			first, err = readUntyped(raw)
		}
	}
	if err != nil {
		return nil, nil, nil // the client went away before saying anything
	}
	switch requestCode(first) {
	case pgwire.CancelRequestCode:
		p.forwardCancel(first)
		return nil, nil, nil
	case pgwire.SSLRequestCode:
	default:
		return nil, nil, errors.New("commit dropper: a client started without TLS")
	}
	if _, err := raw.Write([]byte{'S'}); err != nil {
		return nil, nil, nil
	}
	client := tls.Server(raw, p.serverTLS)
	if err := client.Handshake(); err != nil {
		return nil, nil, nil // the client gave up
	}
	startup, err := readUntyped(client)
	if err != nil {
		return nil, nil, nil
	}
	return client, startup, nil
}

// dialUpstream opens a TLS connection to the load balancer the way libpq
// does: SSLRequest, 'S', handshake.
func (p *CommitDropper) dialUpstream() (net.Conn, *tls.Conn, error) {
	raw, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		return nil, nil, fmt.Errorf("commit dropper: dial %s: %w", p.upstream, err)
	}
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	if err := pgwire.RequestTLS(raw); err != nil {
		raw.Close()
		return nil, nil, fmt.Errorf("commit dropper: upstream %s: %w", p.upstream, err)
	}
	up := tls.Client(raw, p.clientTLS)
	if err := up.Handshake(); err != nil {
		raw.Close()
		return nil, nil, fmt.Errorf("commit dropper: TLS to %s: %w", p.upstream, err)
	}
	_ = raw.SetDeadline(time.Time{})
	return raw, up, nil
}

// forwardCancel passes a CancelRequest on unencrypted, as it came.
func (p *CommitDropper) forwardCancel(msg []byte) {
	c, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		return // a lost cancel is harmless here
	}
	defer c.Close()
	_, _ = c.Write(msg)
}

// arm decides whether the COMMIT being forwarded is one to drop.
func (p *CommitDropper) arm() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.commits++
	if p.commits < p.nextAt || len(p.dropped)+p.inFlight >= p.drops {
		return false
	}
	p.inFlight++
	return true
}

// settle ends an armed COMMIT: recorded as dropped when the server
// committed (the next one is due Every COMMITs later), else let through.
func (p *CommitDropper) settle(committed bool, param []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight--
	if committed {
		p.dropped = append(p.dropped, Drop{At: time.Now(), FirstParam: param})
		p.nextAt = p.commits + p.every
	}
}

// flushIfIdle flushes w when r has nothing more buffered, so a pipeline
// of messages goes out in one write.
func flushIfIdle(r *bufio.Reader, w *bufio.Writer) error {
	if r.Buffered() > 0 {
		return nil
	}
	return w.Flush()
}
