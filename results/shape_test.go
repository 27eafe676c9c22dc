package results

import (
	"strings"
	"testing"
)

// TestShapeShownWithEveryHeaderAndInTheSummary: the per-second header
// carries the run's shape each time it is printed, and the summary names
// it; a run without one (a handshake, an older run) prints neither.
func TestShapeShownWithEveryHeaderAndInTheSummary(t *testing.T) {
	for _, c := range []struct {
		style, protocol, want string
	}{
		{"app", "savepoint", "app, savepoint retries"},
		{"single", "", "single"},
		{"", "full", "pipelined, full retries"},
		{"", "", ""},
	} {
		s := &Summary{Command: "run", TxnStyle: c.style, RetryProtocol: c.protocol}
		if got := s.Shape(); got != c.want {
			t.Errorf("Shape() of %q/%q = %q, want %q", c.style, c.protocol, got, c.want)
		}
		var out strings.Builder
		p := &Printer{W: &out, Shape: s.Shape()}
		tick := &Tick{Ops: []OpTick{{Op: "transfer"}}}
		for range HeaderEvery + 1 {
			p.PrintTick(tick)
		}
		headers := strings.Count(out.String(), tickHeader)
		if shaped := strings.Count(out.String(), tickHeader+"  "+c.want); headers != 2 || c.want != "" && shaped != 2 {
			t.Errorf("%d headers, %d with the shape %q:\n%s", headers, shaped, c.want, out.String())
		}
		out.Reset()
		PrintSummary(&out, s)
		if has := strings.Contains(out.String(), "transaction shape: "+c.want+"\n"); has != (c.want != "") {
			t.Errorf("summary of shape %q:\n%s", c.want, out.String())
		}
	}
}
