package floor

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/authbench/authbench/workloads"
)

// TestEncodedTripsCarryTheArguments decodes every pre-encoded round trip
// with pgproto3, after the arguments are copied into place, and checks
// each Bind names its statement and carries the slots' values, then
// Execute, and one Sync at the end.
func TestEncodedTripsCarryTheArguments(t *testing.T) {
	for _, style := range workloads.TxnStyles {
		p, err := newPlan(style)
		if err != nil {
			t.Fatal(err)
		}
		args := newSlotBuf([16]byte{9, 9, 9})
		for i := range args.buf {
			if i >= 32 {
				args.buf[i] = byte(i)
			}
		}
		for trip, ids := range p.trips {
			out, patches, err := encodeTrip(p, ids)
			if err != nil {
				t.Fatal(err)
			}
			for _, pt := range patches {
				copy(out[pt.off:], args.slots[pt.slot])
			}
			msgs := decodeFrontend(t, out)
			if len(msgs) != 2*len(ids)+1 {
				t.Fatalf("%s trip %d: %d messages, want %d", style, trip, len(msgs), 2*len(ids)+1)
			}
			for i, id := range ids {
				bind, ok := msgs[2*i].(*pgproto3.Bind)
				if !ok {
					t.Fatalf("%s trip %d: message %d is %T, want Bind", style, trip, 2*i, msgs[2*i])
				}
				if bind.PreparedStatement != p.stmts[id].name || len(bind.Parameters) != len(p.stmts[id].slots) {
					t.Fatalf("%s trip %d: Bind of %q with %d parameters, want %q with %d", style, trip,
						bind.PreparedStatement, len(bind.Parameters), p.stmts[id].name, len(p.stmts[id].slots))
				}
				for j, sl := range p.stmts[id].slots {
					if !bytes.Equal(bind.Parameters[j], args.slots[sl]) {
						t.Errorf("%s trip %d statement %d parameter %d: %x, want slot %d %x", style, trip, id, j, bind.Parameters[j], sl, args.slots[sl])
					}
				}
				if _, ok := msgs[2*i+1].(*pgproto3.Execute); !ok {
					t.Fatalf("%s trip %d: message %d is %T, want Execute", style, trip, 2*i+1, msgs[2*i+1])
				}
			}
			if _, ok := msgs[len(msgs)-1].(*pgproto3.Sync); !ok {
				t.Fatalf("%s trip %d: last message is %T, want Sync", style, trip, msgs[len(msgs)-1])
			}
		}
	}
}

// decodeFrontend splits a frontend byte stream into messages.
func decodeFrontend(t *testing.T, b []byte) []pgproto3.FrontendMessage {
	t.Helper()
	var out []pgproto3.FrontendMessage
	for len(b) > 0 {
		size := int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4])
		body := b[5 : 1+size]
		var m pgproto3.FrontendMessage
		switch b[0] {
		case 'B':
			m = &pgproto3.Bind{}
		case 'E':
			m = &pgproto3.Execute{}
		case 'S':
			m = &pgproto3.Sync{}
		default:
			t.Fatalf("unexpected message type %q", b[0])
		}
		if err := m.Decode(body); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
		b = b[1+size:]
	}
	return out
}
