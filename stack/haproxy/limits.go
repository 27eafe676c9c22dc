package haproxy

import (
	"fmt"
	"os"
	"strings"

	"github.com/authbench/authbench/stack"
)

// defaultMaxConn is HAProxy's maxconn when the stack holds fewer
// connections.
const defaultMaxConn = 2000

// maxConn is HAProxy's maxconn: the stack's connection limit, at least
// defaultMaxConn.
func maxConn(st *stack.State) int {
	return max(st.MaxConnections, defaultMaxConn)
}

// fdsFor is the open files HAProxy needs for n connections: one to the
// client and one to the server each, plus its listeners, checks and logs.
func fdsFor(n int) uint64 { return uint64(2*n + 100) }

// procNoFile returns the open-file limit of process pid from
// /proc/PID/limits ("?" when it cannot be read).
func procNoFile(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 5 && strings.HasPrefix(line, "Max open files") {
			return f[3]
		}
	}
	return "?"
}
