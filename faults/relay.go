package faults

import (
	"bufio"
	"io"
	"net"
	"sync"
)

// relay is one proxied connection after the startup message.
type relay struct {
	p         *CommitDropper
	clientRaw net.Conn
	upRaw     net.Conn

	mu    sync.Mutex
	armed bool   // a COMMIT to drop is on its way to the server
	param []byte // its transaction's first Bind parameter

	stmts statements // what the server is running, for FailStatement
}

// clientToServer relays the client's messages, remembers the first Bind
// parameter of each transaction and arms the drop on a chosen COMMIT.
func (r *relay) clientToServer(client io.Reader, up io.Writer) {
	in, out := bufio.NewReader(client), bufio.NewWriter(up)
	var param []byte
	for {
		m, err := readMessage(in)
		if err != nil {
			return
		}
		if param == nil {
			if v, ok, err := bindFirstParam(m); err != nil {
				r.p.note(err)
			} else if ok {
				param = v
			}
		}
		r.stmts.sent(m)
		if commit, end := isTxEnd(m); end {
			if commit && r.p.arm() {
				r.mu.Lock()
				r.armed, r.param = true, param
				r.mu.Unlock()
			}
			param = nil
		}
		if _, err := out.Write(m.bytes()); err != nil {
			return
		}
		if err := flushIfIdle(in, out); err != nil {
			return
		}
	}
}

// serverToClient relays the server's messages; when a drop is armed and
// the server completes the COMMIT, it cuts both connections instead.
func (r *relay) serverToClient(up io.Reader, client io.Writer) {
	in, out := bufio.NewReader(up), bufio.NewWriter(client)
	for {
		m, err := readMessage(in)
		if err != nil {
			r.takeArmed("")     // a COMMIT in flight was not completed
			r.clientRaw.Close() // the server went away: so does the client's side
			return
		}
		if tag := commandTag(m); tag != "" && r.takeArmed(tag) {
			r.clientRaw.Close()
			r.upRaw.Close()
			return
		}
		m, relay := r.stmts.answered(m, r.p.takeFailure)
		if !relay {
			continue
		}
		if _, err := out.Write(m.bytes()); err != nil {
			return
		}
		if err := flushIfIdle(in, out); err != nil {
			return
		}
	}
}

// takeArmed settles an armed drop on the COMMIT's CommandComplete and
// reports whether the reply must be swallowed (the server committed).
func (r *relay) takeArmed(tag string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.armed {
		return false
	}
	r.armed = false
	committed := tag == "COMMIT"
	r.p.settle(committed, r.param)
	return committed
}
