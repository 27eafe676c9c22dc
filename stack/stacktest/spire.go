package stacktest

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/spiffe/spire"
	"github.com/authbench/authbench/stack/spiffe/spirebin"
)

// RequireSPIREEnv, set to 1, makes a missing SPIRE fail the tests that
// need it instead of skipping them.
const RequireSPIREEnv = "AUTHBENCH_REQUIRE_SPIRE"

// RequireSPIRE returns the SPIRE binaries the stack runs (spirebin.Find).
// Without them the test is skipped with one line saying how to get them,
// except where RequireSPIREEnv is 1 or CI=true (.ci/run sets the former),
// where a missing SPIRE fails the test.
func RequireSPIRE(t testing.TB) spirebin.Binaries {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	b, err := spirebin.Find()
	if err == nil {
		return b
	}
	if os.Getenv(RequireSPIREEnv) == "1" || os.Getenv("CI") == "true" {
		t.Fatal(err)
	}
	t.Skip(err)
	return spirebin.Binaries{}
}

// SPIRE is a real SPIRE server and agent of the tests' own, without a
// stack: for tests of the auth mode against a fake database.
type SPIRE struct {
	spire.Config
}

// spireTimeout bounds a SPIRE start or a wait for an SVID.
const spireTimeout = 2 * time.Minute

// newSPIRE runs a SPIRE server and agent for trust domain td with SVIDs
// of ttl in a fresh short temporary directory (unix socket paths must be
// short).
func newSPIRE(bins spirebin.Binaries, td string, ttl time.Duration, log io.Writer) (*SPIRE, error) {
	dir, err := os.MkdirTemp("", "ab-spire")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := stack.FreePort()
	if err != nil {
		return nil, err
	}
	s := &SPIRE{Config: spire.Config{Dir: dir, TrustDomain: td, SVIDTTL: ttl, ServerPort: port, Bins: bins}}
	ctx, cancel := context.WithTimeout(context.Background(), spireTimeout)
	defer cancel()
	if err := s.StartServer(ctx, log); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.StartAgent(ctx, log); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the agent and the server and removes their directory.
func (s *SPIRE) Close() {
	_ = s.Stop(spire.AgentProc, io.Discard)
	_ = s.Stop(spire.ServerProc, io.Discard)
	os.RemoveAll(s.Dir)
}

// Logs returns the tails of the server's and the agent's logs.
func (s *SPIRE) Logs() string {
	out := ""
	for _, p := range []string{spire.ServerProc, spire.AgentProc} {
		data, _ := os.ReadFile(s.LogFile(p))
		if len(data) > 4<<10 {
			data = data[len(data)-4<<10:]
		}
		out += fmt.Sprintf("%s log:\n%s\n", p, data)
	}
	return out
}

// StartSPIRE runs a SPIRE server and agent of the test's own for trust
// domain td with SVIDs of ttl, stopped when the test ends (their logs are
// logged if it failed). It skips or fails as RequireSPIRE says.
func StartSPIRE(t testing.TB, td string, ttl time.Duration) *SPIRE {
	t.Helper()
	s, err := newSPIRE(RequireSPIRE(t), td, ttl, logWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Logs())
		}
		s.Close()
	})
	return s
}

var shared struct {
	mu  sync.Mutex
	s   *SPIRE
	err error
}

// SharedSPIRE returns the test process's SPIRE (trust domain
// authbench.test, SVIDs of an hour unless an entry says otherwise),
// starting it on first use; CloseSharedSPIRE, from TestMain, stops it.
// Tests that use it must not run in parallel: they change its entries.
func SharedSPIRE(t testing.TB) *SPIRE {
	t.Helper()
	bins := RequireSPIRE(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.s == nil && shared.err == nil {
		shared.s, shared.err = newSPIRE(bins, "authbench.test", time.Hour, logWriter{t})
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(shared.s.Logs())
		}
	})
	return shared.s
}

// CloseSharedSPIRE stops the SPIRE SharedSPIRE started, if any.
func CloseSharedSPIRE() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.s != nil {
		shared.s.Close()
		shared.s = nil
	}
}

// Register creates or updates e and waits until the agent serves this
// process its SVID (e must select this process); it returns its serial.
func (s *SPIRE) Register(t testing.TB, e spire.Entry) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), spireTimeout)
	defer cancel()
	before, _ := s.SVID(ctx, e.SPIFFEID)
	if err := s.SetEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	return s.waitNew(t, ctx, e.SPIFFEID, before)
}

// Rotate updates e (a new revision, so the agent issues a new SVID at its
// next sync), waits for that SVID and returns its serial.
func (s *SPIRE) Rotate(t testing.TB, e spire.Entry) string { return s.Register(t, e) }

// waitNew waits until the agent serves an SVID for id other than before.
func (s *SPIRE) waitNew(t testing.TB, ctx context.Context, id string, before string) string {
	t.Helper()
	for {
		if serial, err := s.SVID(ctx, id); err == nil && serial != before {
			return serial
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the agent served no new SVID for %s within %s", id, spireTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Unregister deletes the entry id and waits until the agent serves no SVID
// for spiffeID any more.
func (s *SPIRE) Unregister(t testing.TB, id, spiffeID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), spireTimeout)
	defer cancel()
	if err := s.DeleteEntry(ctx, id); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := s.SVID(ctx, spiffeID); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the agent still serves %s %s after its entry was deleted", spiffeID, spireTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// SVID returns the serial (hex) of the SVID for spiffeID the agent serves
// this process now.
func (s *SPIRE) SVID(ctx context.Context, spiffeID string) (string, error) {
	svid, err := s.Fetch(ctx, spiffeID)
	if err != nil {
		return "", err
	}
	return svid.Certificates[0].SerialNumber.Text(16), nil
}

// BundleFile writes the server's trust bundle into the test's temporary
// directory and returns the file's path.
func (s *SPIRE) BundleFile(t testing.TB) string {
	t.Helper()
	pem, err := s.Bundle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/bundle.pem"
	if err := os.WriteFile(path, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
