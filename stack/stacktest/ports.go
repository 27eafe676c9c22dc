package stacktest

import (
	"testing"

	"github.com/authbench/authbench/stack"
)

// ClosedPort returns a port on 127.0.0.1 that nothing listens on (it was
// free a moment ago), for tests of what a refused connection does.
func ClosedPort(t testing.TB) int {
	t.Helper()
	port, err := stack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}
