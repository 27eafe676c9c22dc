package faults

import (
	"bytes"
	"sync"
)

// statements follows which statement each of the server's replies
// answers, so that the proxy can answer one with an error of its own: the
// client's Parse messages name statements, Bind binds one to a portal,
// Execute (or a simple Query) queues its text, Sync (or the Query) ends a
// group that the server's ReadyForQuery closes.
type statements struct {
	mu      sync.Mutex
	byName  map[string]string // prepared statement → text
	portals map[string]string // portal → statement text
	queue   []string          // executed texts in order; syncMark ends a group
	failing bool              // an error was sent for the group: drop the rest up to ReadyForQuery
}

// syncMark ends a group of statements in the queue.
const syncMark = "\x00sync"

// sent notes a message from the client.
func (s *statements) sent(m message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byName == nil {
		s.byName, s.portals = map[string]string{}, map[string]string{}
	}
	f := bytes.SplitN(m.body, []byte{0}, 3)
	switch m.typ {
	case 'P': // Parse: name, text
		if len(f) >= 2 {
			s.byName[string(f[0])] = string(f[1])
		}
	case 'B': // Bind: portal, statement
		if len(f) >= 2 {
			s.portals[string(f[0])] = s.byName[string(f[1])]
		}
	case 'E': // Execute: portal
		s.queue = append(s.queue, s.portals[string(f[0])])
	case 'Q':
		s.queue = append(s.queue, simpleQuery(m), syncMark)
	case 'S':
		s.queue = append(s.queue, syncMark)
	}
}

// answered takes a message from the server and returns what to relay in
// its place, or false to drop it. fail decides whether a completed
// statement is answered with a serialization failure instead.
func (s *statements) answered(m message, fail func(sql string) bool) (message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.typ {
	case 'C': // CommandComplete
		sql := s.pop()
		if s.failing {
			return m, false
		}
		if fail(sql) {
			s.failing = true
			return serializationFailure(), true
		}
	case 'Z': // ReadyForQuery closes the group
		for len(s.queue) > 0 {
			head := s.queue[0]
			s.queue = s.queue[1:]
			if head == syncMark {
				break
			}
		}
		if s.failing {
			s.failing = false
			return message{typ: 'Z', body: []byte{'E'}}, true
		}
	default:
		if s.failing {
			return m, false
		}
	}
	return m, true
}

// pop takes the next executed statement of the group ("" when none).
func (s *statements) pop() string {
	if len(s.queue) == 0 || s.queue[0] == syncMark {
		return ""
	}
	sql := s.queue[0]
	s.queue = s.queue[1:]
	return sql
}

// serializationFailure is the ErrorResponse of a transaction that must
// restart, as CockroachDB words it.
func serializationFailure() message {
	var b bytes.Buffer
	for _, f := range [][2]string{{"S", "ERROR"}, {"V", "ERROR"}, {"C", "40001"},
		{"M", "restart transaction: TransactionRetryWithProtoRefreshError (injected by the fault proxy)"}} {
		b.WriteString(f[0])
		b.WriteString(f[1])
		b.WriteByte(0)
	}
	b.WriteByte(0)
	return message{typ: 'E', body: b.Bytes()}
}
