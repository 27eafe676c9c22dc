package faults

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxMessage bounds a message the proxy buffers (a bank transfer's are tiny).
const maxMessage = 1 << 24

// message is one typed protocol message: its type byte and its body.
type message struct {
	typ  byte
	body []byte
}

// bytes returns the message as it goes on the wire.
func (m message) bytes() []byte {
	b := make([]byte, 5+len(m.body))
	b[0] = m.typ
	binary.BigEndian.PutUint32(b[1:5], uint32(len(m.body)+4))
	copy(b[5:], m.body)
	return b
}

// readMessage reads one typed message.
func readMessage(r io.Reader) (message, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return message{}, err
	}
	n := binary.BigEndian.Uint32(hdr[1:5])
	if n < 4 || n > maxMessage {
		return message{}, fmt.Errorf("message %q of length %d", hdr[0], n)
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return message{}, err
	}
	return message{typ: hdr[0], body: body}, nil
}

// readUntyped reads a message without a type byte (startup, SSLRequest,
// CancelRequest) and returns it whole, length included.
func readUntyped(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 8 || n > maxMessage {
		return nil, fmt.Errorf("startup message of length %d", n)
	}
	b := make([]byte, n)
	copy(b, hdr[:])
	if _, err := io.ReadFull(r, b[4:]); err != nil {
		return nil, err
	}
	return b, nil
}

// requestCode returns the code of an untyped message (protocol version or
// one of the request codes).
func requestCode(b []byte) uint32 { return binary.BigEndian.Uint32(b[4:8]) }

// simpleQuery returns the text of a Query message ("" for other types).
func simpleQuery(m message) string {
	if m.typ != 'Q' {
		return ""
	}
	return strings.TrimSpace(string(bytes.TrimRight(m.body, "\x00")))
}

// isTxEnd reports whether m is a simple-protocol COMMIT or ROLLBACK, and
// which.
func isTxEnd(m message) (commit, end bool) {
	q := strings.TrimRight(strings.ToLower(simpleQuery(m)), "; ")
	switch q {
	case "commit", "end":
		return true, true
	case "rollback", "abort":
		return false, true
	}
	return false, false
}

// commandTag returns the tag of a CommandComplete message ("" otherwise).
func commandTag(m message) string {
	if m.typ != 'C' {
		return ""
	}
	return string(bytes.TrimRight(m.body, "\x00"))
}

var errShortBind = errors.New("short Bind message")

// bindFirstParam returns the first parameter of a Bind message, and false
// when it has none (or is null).
func bindFirstParam(m message) ([]byte, bool, error) {
	if m.typ != 'B' {
		return nil, false, nil
	}
	b := m.body
	for range 2 { // portal and statement names
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, false, errShortBind
		}
		b = b[i+1:]
	}
	if len(b) < 2 {
		return nil, false, errShortBind
	}
	nfmt := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if len(b) < 2*nfmt+2 {
		return nil, false, errShortBind
	}
	b = b[2*nfmt:]
	nparams := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if nparams == 0 {
		return nil, false, nil
	}
	if len(b) < 4 {
		return nil, false, errShortBind
	}
	n := int32(binary.BigEndian.Uint32(b))
	b = b[4:]
	if n < 0 {
		return nil, false, nil
	}
	if int(n) > len(b) {
		return nil, false, errShortBind
	}
	return append([]byte(nil), b[:n]...), true, nil
}
