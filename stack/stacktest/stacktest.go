// Package stacktest starts a throwaway local stack for integration tests.
package stacktest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/stack"
	// The stack's base, which every stack has: a test's stack needs no
	// other component unless it enables one.
	_ "github.com/authbench/authbench/stack/haproxy"
	_ "github.com/authbench/authbench/stack/pki"
	"github.com/authbench/authbench/stack/postgres"
)

// upTimeout bounds how long Start waits for the stack.
const upTimeout = 3 * time.Minute

// Start brings up a stack in a fresh temporary state dir and stops and
// removes it when the test ends, failed or not. Options may change the
// Config (users, extra pg_hba/postgresql.conf lines, client CAs) but not
// its Dir. Components run their built-in stand-ins unless the test's
// settings name a real server (Config.PreferBuiltin). With -short the test
// is skipped; missing server binaries fail
// the test (`make test` installs them).
func Start(t testing.TB, cfg ...func(*stack.Config)) *stack.State {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	c := stack.Config{}
	for _, f := range cfg {
		f(&c)
	}
	c.PreferBuiltin = true // a real Vault only when the test names one (vaulttest)
	if c.NeedsExe() {
		c.Exe = Exe(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	// Not t.TempDir: it is 0700, and PostgreSQL, run as user postgres,
	// could not enter it.
	log := logWriter{t}
	st, err := stack.UpTemp(ctx, "authbench-stack-", c, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stack.Discard(st.Dir, log); err != nil {
			t.Errorf("stack down: %v", err)
		}
	})
	return st
}

// logWriter sends each line written to it to t.Log.
type logWriter struct{ t testing.TB }

// Write logs p, one t.Log call per write.
func (w logWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// PGDataDir returns the data directory of st's PostgreSQL, for tests of
// components (which never import postgres) that read its configuration.
func PGDataDir(st *stack.State) string { return postgres.Of(st).DataDir }
