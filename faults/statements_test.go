package faults

import (
	"strings"
	"testing"
)

func msg(typ byte, parts ...string) message {
	return message{typ: typ, body: []byte(strings.Join(parts, "\x00") + "\x00")}
}

// TestStatementsFailOneReply: of two statements sent alone before their
// Syncs (a prepared one, then its execution), the proxy fails the second
// statement's CommandComplete once, drops the rest of its reply and marks
// the transaction failed at ReadyForQuery; the next group passes untouched.
func TestStatementsFailOneReply(t *testing.T) {
	var s statements
	left := 1
	fail := func(sql string) bool {
		if strings.Contains(sql, "SET balance") && left > 0 {
			left--
			return true
		}
		return false
	}
	for _, m := range []message{msg('P', "s1", "SELECT 1"), msg('B', "", "s1"), msg('E', ""), msg('S'),
		msg('P', "s2", "UPDATE accounts SET balance=$1"), msg('B', "", "s2"), msg('E', ""), msg('S'),
		msg('Q', "UPDATE accounts SET balance=$1")} {
		s.sent(m)
	}
	type step struct {
		in      message
		relayed bool
		typ     byte
	}
	for i, st := range []step{
		{msg('C', "SELECT 1"), true, 'C'}, {message{typ: 'Z', body: []byte{'T'}}, true, 'Z'},
		{msg('C', "UPDATE 1"), true, 'E'}, {msg('N', "notice"), false, 0}, {message{typ: 'Z', body: []byte{'T'}}, true, 'Z'},
		{msg('C', "UPDATE 1"), true, 'C'}, {message{typ: 'Z', body: []byte{'T'}}, true, 'Z'},
	} {
		out, ok := s.answered(st.in, fail)
		if ok != st.relayed || ok && out.typ != st.typ {
			t.Fatalf("step %d: relayed %v as %q, want %v as %q", i, ok, out.typ, st.relayed, st.typ)
		}
		if i == 4 && string(out.body) != "E" {
			t.Errorf("ReadyForQuery after the failure says %q, want E (failed transaction)", out.body)
		}
		if out.typ == 'E' && !strings.Contains(string(out.body), "C40001\x00") {
			t.Errorf("the failure %q is not SQLSTATE 40001", out.body)
		}
	}
}
