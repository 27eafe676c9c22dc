package faults

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// bind builds a Bind body: unnamed portal, statement stmt, one binary
// format code, the given parameters (nil = NULL).
func bind(stmt string, params ...[]byte) message {
	var b bytes.Buffer
	b.WriteString("\x00" + stmt + "\x00")
	binary.Write(&b, binary.BigEndian, []int16{1, 1, int16(len(params))})
	for _, p := range params {
		n := int32(len(p))
		if p == nil {
			n = -1
		}
		binary.Write(&b, binary.BigEndian, n)
		b.Write(p)
	}
	binary.Write(&b, binary.BigEndian, []int16{0})
	return message{typ: 'B', body: b.Bytes()}
}

func TestBindFirstParam(t *testing.T) {
	id := bytes.Repeat([]byte{0xab}, 16)
	for _, c := range []struct {
		name string
		m    message
		want []byte
		ok   bool
		bad  bool
	}{
		{"transfer insert", bind("stmt_1", id, []byte("x")), id, true, false},
		{"no parameters", bind("begin"), nil, false, false},
		{"null first", bind("s", nil), nil, false, false},
		{"not a bind", message{typ: 'Q', body: []byte("commit\x00")}, nil, false, false},
		{"truncated", message{typ: 'B', body: []byte("\x00s\x00\x00")}, nil, false, true},
		{"length past the end", message{typ: 'B', body: []byte("\x00\x00\x00\x00\x00\x01\x00\x00\x00\x09ab")}, nil, false, true},
	} {
		got, ok, err := bindFirstParam(c.m)
		if (err != nil) != c.bad || ok != c.ok || !bytes.Equal(got, c.want) {
			t.Errorf("%s: got %x, %v, %v", c.name, got, ok, err)
		}
	}
}

func TestTxEndAndTags(t *testing.T) {
	q := func(s string) message { return message{typ: 'Q', body: []byte(s + "\x00")} }
	for s, want := range map[string][2]bool{
		"commit": {true, true}, " COMMIT; ": {true, true}, "end": {true, true},
		"rollback": {false, true}, "begin": {false, false}, "select 1": {false, false},
	} {
		commit, end := isTxEnd(q(s))
		if commit != want[0] || end != want[1] {
			t.Errorf("isTxEnd(%q) = %v, %v, want %v", s, commit, end, want)
		}
	}
	if tag := commandTag(message{typ: 'C', body: []byte("COMMIT\x00")}); tag != "COMMIT" {
		t.Errorf("commandTag = %q", tag)
	}
	m := message{typ: 'Z', body: []byte{'I'}}
	back, err := readMessage(bytes.NewReader(m.bytes()))
	if err != nil || back.typ != 'Z' || !bytes.Equal(back.body, m.body) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if _, err := readMessage(bytes.NewReader([]byte{'Z', 0, 0, 0, 2})); err == nil {
		t.Error("a length under 4 must be an error")
	}
}
