package floor

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// wireTrip is the floor: the connection pgconn opened (TLS), taken over
// with Hijack after the statements are prepared; every round trip is its
// Bind/Execute messages and a Sync, encoded once, with the argument bytes
// copied into place before the one write; the replies are parsed only as
// far as an error's SQLSTATE, the first row and ReadyForQuery.
type wireTrip struct {
	conn    net.Conn
	args    *slotBuf
	out     [][]byte  // by trip: the messages to write
	patches [][]patch // by trip: where the arguments go
	in      []byte    // read buffer
	r, w    int       // unread bytes are in[r:w]
}

// patch is where a slot's value goes in a trip's messages.
type patch struct{ off, slot int }

func newWireTrip(ctx context.Context, conn *pgconn.PgConn, p *plan, args *slotBuf) (*wireTrip, error) {
	if _, err := prepare(ctx, conn, p); err != nil {
		return nil, err
	}
	if err := conn.SyncConn(ctx); err != nil {
		return nil, err
	}
	hc, err := conn.Hijack()
	if err != nil {
		return nil, err
	}
	t := &wireTrip{conn: hc.Conn, args: args, in: make([]byte, 16<<10)}
	for _, ids := range p.trips {
		out, patches, err := encodeTrip(p, ids)
		if err != nil {
			hc.Conn.Close()
			return nil, err
		}
		t.out, t.patches = append(t.out, out), append(t.patches, patches)
	}
	return t, nil
}

// encodeTrip encodes a Bind (binary parameters and results) and an
// Execute for each statement, then a Sync; the parameters are zeros,
// their offsets returned as patches.
func encodeTrip(p *plan, ids []int) ([]byte, []patch, error) {
	var out []byte
	var patches []patch
	for _, id := range ids {
		s := p.stmts[id]
		params := make([][]byte, len(s.slots))
		for i, sl := range s.slots {
			params[i] = make([]byte, slotLen(sl))
		}
		start := len(out)
		var err error
		out, err = (&pgproto3.Bind{PreparedStatement: s.name, ParameterFormatCodes: binaryFormat, Parameters: params, ResultFormatCodes: binaryFormat}).Encode(out)
		if err != nil {
			return nil, nil, err
		}
		// Type, length, the unnamed portal's NUL, the statement's name
		// and NUL, one format code (count and code), the parameter count.
		off := start + 1 + 4 + 1 + len(s.name) + 1 + 2 + 2 + 2
		for i, sl := range s.slots {
			patches = append(patches, patch{off: off + 4, slot: sl})
			off += 4 + len(params[i])
		}
		if out, err = (&pgproto3.Execute{}).Encode(out); err != nil {
			return nil, nil, err
		}
	}
	out, err := (&pgproto3.Sync{}).Encode(out)
	return out, patches, err
}

// slotLen is the binary size of a slot's value: a UUID or an INT8.
func slotLen(slot int) int {
	if slot == slotID || slot == slotRunID {
		return 16
	}
	return 8
}

func (t *wireTrip) roundTrip(trip int, r *reply) error {
	*r = reply{}
	out := t.out[trip]
	for _, pt := range t.patches[trip] {
		copy(out[pt.off:], t.args.slots[pt.slot])
	}
	if _, err := t.conn.Write(out); err != nil {
		return err
	}
	for {
		typ, body, err := t.next()
		if err != nil {
			return err
		}
		switch typ {
		case 'E':
			if r.sqlState == "" {
				r.sqlState = errorCode(body)
			}
		case 'D':
			if !r.hasRow {
				r.hasRow = true
				readDataRow(body, r)
			}
		case 'Z':
			if len(body) > 0 {
				r.txStatus = body[0]
			}
			return nil
		}
	}
}

// next returns the next backend message's type and body, reading more
// from the connection when the buffer holds less than a message.
func (t *wireTrip) next() (byte, []byte, error) {
	for {
		if n := t.w - t.r; n >= 5 {
			size := int(binary.BigEndian.Uint32(t.in[t.r+1:]))
			if size < 4 {
				return 0, nil, fmt.Errorf("backend message of length %d", size)
			}
			if n >= 1+size {
				typ, body := t.in[t.r], t.in[t.r+5:t.r+1+size]
				t.r += 1 + size
				return typ, body, nil
			}
			if 1+size > len(t.in) {
				t.in = append(t.in, make([]byte, 1+size-len(t.in))...)
			}
		}
		if t.r > 0 { // keep the partial message at the start
			t.w = copy(t.in, t.in[t.r:t.w])
			t.r = 0
		}
		n, err := t.conn.Read(t.in[t.w:])
		if n == 0 && err == nil {
			err = io.ErrNoProgress
		}
		if err != nil {
			return 0, nil, err
		}
		t.w += n
	}
}

// errorCode finds the SQLSTATE ('C' field) of an ErrorResponse's body.
func errorCode(body []byte) string {
	for len(body) > 1 {
		field := body[0]
		end := 1
		for end < len(body) && body[end] != 0 {
			end++
		}
		if field == 'C' {
			return string(body[1:end])
		}
		body = body[min(end+1, len(body)):]
	}
	return "XX000"
}

// readDataRow keeps a DataRow's first two columns that are INT8s.
func readDataRow(body []byte, r *reply) {
	if len(body) < 2 {
		return
	}
	cols, body := int(binary.BigEndian.Uint16(body)), body[2:]
	for i := 0; i < cols && i < len(r.row) && len(body) >= 4; i++ {
		n := int32(binary.BigEndian.Uint32(body))
		body = body[4:]
		if n < 0 {
			continue // NULL
		}
		if int(n) > len(body) {
			return
		}
		if n == 8 {
			r.row[i] = int64(binary.BigEndian.Uint64(body))
		}
		body = body[n:]
	}
}

func (t *wireTrip) close() error {
	_, _ = t.conn.Write([]byte{'X', 0, 0, 0, 4}) // Terminate
	return t.conn.Close()
}
