package driver

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ConnObserver receives connection timings; results.Registry implements it.
type ConnObserver interface {
	ConnOpened(total time.Duration)
	ConnFailed()
	ConnClosed()
	Phase(name string, d time.Duration)
}

// Instrument wraps cfg's hooks so that every new connection records its
// handshake phases: credential (the auth mode's BeforeConnect), tcp, tls
// (SSLRequest and the TLS handshake), auth (startup to AuthenticationOk),
// ready (to the first ReadyForQuery) and total. Every attempt that fails —
// no credential, or pgx giving up on it — is counted once as failed,
// whether a worker or the pool's own refill made it (a fleet's pools
// reconnect in the background). Call it after the auth mode
// configured cfg. The connection itself is never wrapped, so pgx still sees
// its *tls.Conn (SCRAM channel binding needs it).
func Instrument(cfg *pgxpool.Config, obs ConnObserver) {
	modeBefore, beforeClose := cfg.BeforeConnect, cfg.BeforeClose
	failures := failureTracer{obs}
	cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
		tr := &connTrace{start: time.Now()}
		if modeBefore != nil {
			if err := modeBefore(ctx, cc); err != nil {
				obs.ConnFailed()
				return err
			}
		}
		tr.credDone = time.Now()
		tr.install(&cc.Config, obs)
		if cc.Tracer == nil {
			cc.Tracer = failures
		}
		return nil
	}
	cfg.BeforeClose = func(c *pgx.Conn) {
		obs.ConnClosed()
		if beforeClose != nil {
			beforeClose(c)
		}
	}
}

// connTrace holds one connection's timestamps.
type connTrace struct {
	start, credDone, dialDone, netDone, authOK, ready time.Time
}

// failureTracer counts a connection attempt that pgx gave up on (every
// address and fallback tried), however it failed. It is the connection's
// pgx tracer only when nobody else set one, so its query methods do
// nothing.
type failureTracer struct{ obs ConnObserver }

// TraceConnectStart does nothing.
func (failureTracer) TraceConnectStart(ctx context.Context, _ pgx.TraceConnectStartData) context.Context {
	return ctx
}

// TraceConnectEnd counts a failed attempt.
func (t failureTracer) TraceConnectEnd(_ context.Context, d pgx.TraceConnectEndData) {
	if d.Err != nil {
		t.obs.ConnFailed()
	}
}

// TraceQueryStart does nothing.
func (failureTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

// TraceQueryEnd does nothing.
func (failureTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// install hooks this connection's config (a copy made for it by pgxpool).
func (tr *connTrace) install(c *pgconn.Config, obs ConnObserver) {
	dial, afterNet, build, validate := c.DialFunc, c.AfterNetConnect, c.BuildFrontend, c.ValidateConnect
	c.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		tr.dialDone = time.Now()
		return conn, err
	}
	c.AfterNetConnect = func(ctx context.Context, cfg *pgconn.Config, conn net.Conn) (net.Conn, error) {
		// pgx hands over a *tls.Conn that has not shaken hands yet; do it
		// now, so the handshake is timed as tls and not as auth.
		if tc, ok := conn.(*tls.Conn); ok {
			if err := tc.HandshakeContext(ctx); err != nil {
				return conn, err // pgx closes the conn it gets back on error
			}
		}
		tr.netDone = time.Now()
		if afterNet != nil {
			return afterNet(ctx, cfg, conn)
		}
		return conn, nil
	}
	c.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		return build(&sniffReader{r: r, tr: tr}, w)
	}
	c.ValidateConnect = func(ctx context.Context, pc *pgconn.PgConn) error {
		if validate != nil {
			if err := validate(ctx, pc); err != nil {
				return err
			}
		}
		tr.report(obs, time.Now())
		return nil
	}
}

func (tr *connTrace) report(obs ConnObserver, now time.Time) {
	if tr.ready.IsZero() {
		tr.ready = now
	}
	if tr.authOK.IsZero() {
		tr.authOK = tr.ready
	}
	obs.Phase("credential", tr.credDone.Sub(tr.start))
	obs.Phase("tcp", tr.dialDone.Sub(tr.credDone))
	obs.Phase("tls", tr.netDone.Sub(tr.dialDone))
	obs.Phase("auth", tr.authOK.Sub(tr.netDone))
	obs.Phase("ready", tr.ready.Sub(tr.authOK))
	total := now.Sub(tr.start)
	obs.Phase("total", total)
	obs.ConnOpened(total)
}

// sniffReader watches the backend's messages during startup to time
// AuthenticationOk and the first ReadyForQuery; after that it only passes
// bytes through.
type sniffReader struct {
	r    io.Reader
	tr   *connTrace
	done bool
	hdr  [9]byte // message type, length, auth code
	nHdr int
	skip int // body bytes of the current message still to skip
}

// Read passes bytes through, timing the startup messages as they go by.
func (s *sniffReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if !s.done && n > 0 {
		s.scan(p[:n], time.Now())
	}
	return n, err
}

// scan advances the message parser over b.
func (s *sniffReader) scan(b []byte, now time.Time) {
	for len(b) > 0 && !s.done {
		if s.skip > 0 {
			k := min(s.skip, len(b))
			s.skip -= k
			b = b[k:]
			continue
		}
		if s.nHdr == 0 {
			s.hdr[0], s.nHdr, b = b[0], 1, b[1:]
			continue
		}
		need := 5 // type and length
		if s.hdr[0] == 'R' {
			need = 9 // and the authentication code
		}
		k := copy(s.hdr[s.nHdr:need], b)
		s.nHdr += k
		b = b[k:]
		if s.nHdr < need {
			continue
		}
		s.message(now)
	}
}

// message handles a complete header and sets up skipping of the body.
func (s *sniffReader) message(now time.Time) {
	length := int(binary.BigEndian.Uint32(s.hdr[1:5])) - 4
	switch s.hdr[0] {
	case 'R':
		length -= 4
		if binary.BigEndian.Uint32(s.hdr[5:9]) == 0 {
			s.tr.authOK = now
		}
	case 'Z':
		s.tr.ready = now
		s.done = true
	case 'E':
		s.done = true
	}
	s.skip, s.nHdr = max(length, 0), 0
}
