package spiffe

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// fakePG is just enough of a PostgreSQL server for the mode: SSLRequest,
// TLS with a required client certificate, startup, and empty answers to
// simple queries. It records the serial of every client certificate, and
// refuses every login with SQLSTATE 28000 when reject is set.
type fakePG struct {
	ln     net.Listener
	tls    *tls.Config
	reject atomic.Bool
	pid    atomic.Uint32

	mu      sync.Mutex
	serials []string // client certificate serials (hex), in accept order
	wg      sync.WaitGroup
}

// startFakePG serves until the test ends.
func startFakePG(t *testing.T, cert *tls.Certificate) *fakePG {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakePG{ln: ln, tls: &tls.Config{Certificates: []tls.Certificate{*cert}, ClientAuth: tls.RequireAnyClientCert}}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() {
		ln.Close()
		f.wg.Wait()
	})
	return f
}

// port is the port the server listens on.
func (f *fakePG) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

// seen returns the client certificate serials so far.
func (f *fakePG) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.serials...)
}

func (f *fakePG) serve() {
	defer f.wg.Done()
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		conn, err := f.ln.Accept()
		if err != nil {
			return
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer conn.Close()
			f.session(conn)
		}()
	}
}

// session runs one connection until the client leaves.
func (f *fakePG) session(conn net.Conn) {
	msg, err := pgproto3.NewBackend(conn, conn).ReceiveStartupMessage()
	if _, ok := msg.(*pgproto3.SSLRequest); err != nil || !ok {
		return
	}
	if _, err := conn.Write([]byte{'S'}); err != nil {
		return
	}
	tc := tls.Server(conn, f.tls)
	if err := tc.Handshake(); err != nil {
		return
	}
	f.mu.Lock()
	f.serials = append(f.serials, tc.ConnectionState().PeerCertificates[0].SerialNumber.Text(16))
	f.mu.Unlock()
	be := pgproto3.NewBackend(tc, tc)
	if _, err := be.ReceiveStartupMessage(); err != nil {
		return
	}
	if f.reject.Load() {
		be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28000", Message: `role "bench_spiffe" does not exist`})
		_ = be.Flush()
		return
	}
	be.Send(&pgproto3.AuthenticationOk{})
	be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "15.0"})
	be.Send(&pgproto3.BackendKeyData{ProcessID: f.pid.Add(1), SecretKey: []byte{1, 2, 3, 4}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if be.Flush() != nil {
		return
	}
	f.answer(be)
}

// answer replies to simple queries until Terminate or an error.
func (f *fakePG) answer(be *pgproto3.Backend) {
	for {
		msg, err := be.Receive()
		if err != nil {
			return
		}
		switch msg.(type) {
		case *pgproto3.Terminate:
			return
		case *pgproto3.Query:
			be.Send(&pgproto3.EmptyQueryResponse{})
			be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
			if be.Flush() != nil {
				return
			}
		}
	}
}
