package stacktest

import (
	"testing"

	"github.com/authbench/authbench/stack"
)

// Status returns the line of `stack status` for the process name.
func Status(t testing.TB, st *stack.State, name string) stack.ComponentStatus {
	t.Helper()
	comps, err := stack.Status(st.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range comps {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s in status %v", name, comps)
	return stack.ComponentStatus{}
}
