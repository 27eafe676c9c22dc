package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/stack/spiffe"
	"github.com/authbench/authbench/stack/spiffe/spire"
)

// SPIRE's faults besides the agent's restart (testAgentRestarted): its
// server stopped and the workload's entry deleted. Neither may fail a
// transaction: the agent serves its cached SVID while the server is away,
// and the mode keeps presenting the SVID it has until the entry is back.

// spire returns the stack's SPIRE deployment.
func (f *faultFixture) spire(t *testing.T) spire.Config {
	t.Helper()
	sp, err := spiffe.Of(f.st).SPIRE()
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// testSPIREServerStopped stops the SPIRE server under a spiffe run that
// opens a connection per transaction: the agent keeps serving the SVID it
// has cached (at least half of its lifetime is left after each renewal), so
// every new connection still logs in.
func (f *faultFixture) testSPIREServerStopped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := f.startTolerant(t, dir, "spiffe", "--conn-mode", "per-txn", "--max-rate", "50")
	restore := f.restorer(t)
	if err := f.spire(t).Stop(spire.ServerProc, io.Discard); err != nil {
		t.Fatal(err)
	}
	r.drain()
	r.waitClean(t, cleanTick, 5) // five seconds of new connections on the cached SVID
	restore()
	r.interrupt(t)
	s := readSummary(t, dir)
	f.assertBank(t, s)
	tr := s.Op("transfer")
	t.Logf("SPIRE's server stopped: %d transfers, %d connections opened, %d failed", tr.Count, s.Connections.Opened, s.Connections.Failed)
	if tr.Errors != 0 || tr.Count == 0 || s.Connections.Failed != 0 || s.Connections.Opened < tr.Count {
		t.Errorf("with SPIRE's server stopped: %d transfers committed, %d failed, %d connections opened, %d failed; want a connection per transfer and none failed",
			tr.Count, tr.Errors, s.Connections.Opened, s.Connections.Failed)
	}
	if strings.Contains(r.output(), "[errors-began]") {
		t.Errorf("errors began while SPIRE's server was stopped:\n%s", r.output())
	}
}

// watchErrorLine is the per-second output's line of the mode's
// watch-error event for a workload the agent no longer issues SVIDs to.
var watchErrorLine = regexp.MustCompile(`\[watch-error\] spiffe .*issues no SVID to this process any more`)

// testEntryDeleted deletes the client's registration entry under a spiffe
// run: the mode says the agent issues it no SVID any more, naming the
// selectors it was attested with, keeps working on the SVID it has, and
// takes the new SVID once `stack up` registers the entry again.
func (f *faultFixture) testEntryDeleted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := f.startTolerant(t, dir, "spiffe")
	restore := f.restorer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.spire(t).DeleteEntry(ctx, spiffe.Of(f.st).ClientEntryID()); err != nil {
		t.Fatal(err)
	}
	waitMatch(t, r, watchErrorLine)
	restore()
	waitMatch(t, r, regexp.MustCompile(`\[rotation\] spiffe`))
	r.waitClean(t, cleanTick, 2)
	r.interrupt(t)
	s := readSummary(t, dir)
	f.assertBank(t, s)
	if tr := s.Op("transfer"); tr.Errors != 0 || tr.Count == 0 {
		t.Errorf("with the entry deleted: %d transfers committed, %d failed; want none failed", tr.Count, tr.Errors)
	}
	selector := "unix:uid:" + strconv.Itoa(os.Getuid())
	for _, e := range eventsOf(s, "watch-error") {
		if !strings.Contains(e.Detail, selector) {
			t.Errorf("watch-error %q does not name the selector %s", e.Detail, selector)
		}
	}
}
