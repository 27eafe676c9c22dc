package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/authbench/authbench/faults"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/pki"
	"github.com/authbench/authbench/stack/spiffe"
	"github.com/authbench/authbench/stack/spiffe/spire"
	"github.com/authbench/authbench/stack/stacktest"
)

// svidTTL is the SVID lifetime of the SPIFFE tests, SPIRE's practical
// minimum: with its 10 s backdating, a new SVID about every 5 s.
const svidTTL = spiffe.MinTTL

func TestSPIFFEAgainstStack(t *testing.T) {
	stacktest.RequireSPIRE(t)
	cfg := spiffe.Settings{TTL: svidTTL}
	st := stacktest.Start(t, func(c *stack.Config) { spiffe.Enable(c, cfg) })
	c := newCLI(t, st)
	// Enough accounts that serialization failures rarely exhaust the retries.
	c.mustRun("init", "bank", "--auth", "spiffe", "--accounts", "5000", "--initial-balance", "500")

	t.Run("one-line-errors", func(t *testing.T) { testSPIFFEErrors(t, c, st) })
	t.Run("rotation-under-load", func(t *testing.T) { testRotationUnderLoad(t, c, st) })
	t.Run("rotate-every", func(t *testing.T) { testSPIFFERotateEvery(t, c, st) })
	t.Run("foreign-spire-client-ca", func(t *testing.T) { testForeignSPIRE(t, c, st) })
	t.Run("agent-outage", func(t *testing.T) { testAgentOutage(t, c, st, cfg) }) // last: it restarts the agent
}

func testSPIFFEErrors(t *testing.T, c *cli, st *stack.State) {
	run := []string{"run", "bank", "--auth", "spiffe", "--duration", "1s"}
	assertOneLineError(t, c.run(append(run, "--spiffe-socket", "unix:///nonexistent/agent.sock")...), 1,
		"no SPIFFE Workload API socket at /nonexistent/agent.sock")
	foreign := t.TempDir()
	if _, err := pki.LoadOrCreateCA(foreign, "some other CA"); err != nil {
		t.Fatal(err)
	}
	assertOneLineError(t, c.run(append(run, "--ca", filepath.Join(foreign, "ca.crt"))...), 1,
		"server's certificate is not trusted", "--ca")
	assertOneLineError(t, c.run(append(run, "--server-spiffe-id", "spiffe://authbench.test/db")...), 1,
		"not trusted as spiffe://authbench.test/db")
	// An SVID from the trusted CA whose CN is no database user.
	socket := strangerIssuer(t, st)
	assertOneLineError(t, c.run(append(run, "--spiffe-socket", socket, "--user", "bench_stranger")...), 1,
		`refused the SVID spiffe://authbench.test/authbench/bench_stranger as user "bench_stranger"`, "-dns <sql user>")
	assertOneLineError(t, c.run("stack", "up", "--dir", t.TempDir(), "--svid-ttl", "10ms"), 2, "--svid-ttl")
	assertOneLineError(t, c.run("stack", "up", "--dir", t.TempDir(), "--trust-domain", "Not A Domain"), 2, "--trust-domain")
}

// strangerIssuer registers, in the stack's SPIRE, this process as
// bench_stranger too, a user the database does not have, until the test
// ends; it returns the Workload API's address.
func strangerIssuer(t *testing.T, st *stack.State) string {
	t.Helper()
	c, err := spiffe.Of(st).SPIRE()
	if err != nil {
		t.Fatal(err)
	}
	sp := &stacktest.SPIRE{Config: c}
	e := spire.Entry{ID: "test-stranger", SPIFFEID: "spiffe://authbench.test/authbench/bench_stranger", DNSNames: []string{"bench_stranger"},
		Selectors: []string{"unix:uid:" + strconv.Itoa(os.Getuid())}}
	sp.Register(t, e)
	t.Cleanup(func() { sp.Unregister(t, e.ID, e.SPIFFEID) })
	return spiffe.Of(st).Endpoint()
}

// svidWatch follows the stack's Workload API independently of the driver,
// with go-spiffe's own client, and remembers when each SVID arrived.
type svidWatch struct {
	mu      sync.Mutex
	updates []svidUpdate
	src     *workloadapi.X509Source
}

type svidUpdate struct {
	serial   string // decimal, as pg_stat_ssl shows it
	serialHx string // hex, as the events show it
	notAfter time.Time
	ca       string // the signing CA's key id (hex)
}

// watchSVIDs starts a watch that lasts until the test ends.
func watchSVIDs(t *testing.T, st *stack.State) *svidWatch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	src, err := workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(spiffe.Of(st).Endpoint())))
	if err != nil {
		t.Fatal(err)
	}
	w := &svidWatch{src: src}
	w.record()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-src.Updated():
				w.record()
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done; src.Close() })
	return w
}

func (w *svidWatch) record() {
	svid, err := w.src.GetX509SVID()
	if err != nil {
		return
	}
	leaf := svid.Certificates[0]
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.updates); n > 0 && w.updates[n-1].serialHx == leaf.SerialNumber.Text(16) {
		return
	}
	w.updates = append(w.updates, svidUpdate{leaf.SerialNumber.String(), leaf.SerialNumber.Text(16), leaf.NotAfter, hex.EncodeToString(leaf.AuthorityKeyId)})
}

func (w *svidWatch) all() []svidUpdate {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]svidUpdate(nil), w.updates...)
}

// backgroundRun is `authbench run` running in the background.
type backgroundRun struct {
	cmd    *exec.Cmd
	lines  chan string // stdout, line by line
	mu     sync.Mutex  // guards stdout until done is closed
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
}

// startRun starts authbench with args; the process is killed if the test
// ends first, or after 2 minutes.
func startRun(t *testing.T, c *cli, args ...string) *backgroundRun {
	t.Helper()
	return startRunFor(t, c, 2*time.Minute, args...)
}

// startRunFor is startRun with the process killed after limit.
func startRunFor(t *testing.T, c *cli, limit time.Duration, args ...string) *backgroundRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	r := &backgroundRun{cmd: exec.CommandContext(ctx, binPath, args...), lines: make(chan string, 1024), done: make(chan struct{})}
	r.cmd.Env = c.env
	r.cmd.Stderr = &r.stderr
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			r.mu.Lock()
			r.stdout.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			select {
			case r.lines <- sc.Text():
			default:
			}
		}
		_ = r.cmd.Wait()
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// waitLine waits for a stdout line containing s.
func (r *backgroundRun) waitLine(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case line := <-r.lines:
			if strings.Contains(line, s) {
				return
			}
		case <-r.done:
			t.Fatalf("run ended before printing %q:\n%s\n%s", s, r.stdout.String(), r.stderr.String())
		case <-timeout:
			t.Fatalf("no line with %q within a minute", s)
		}
	}
}

// wait waits for the run to end and fails the test unless it exited 0.
func (r *backgroundRun) wait(t *testing.T) {
	t.Helper()
	<-r.done
	if code := r.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("run exited %d:\nstdout:\n%s\nstderr:\n%s", code, r.stdout.String(), r.stderr.String())
	}
}

// connSeen is one bench_spiffe backend the test saw in pg_stat_ssl.
type connSeen struct {
	pid     int32
	started time.Time
	serial  string // decimal
}

// pollSSL records every bench_spiffe backend and the client certificate
// serial PostgreSQL saw, until the run ends.
func pollSSL(t *testing.T, st *stack.State, r *backgroundRun) []connSeen {
	t.Helper()
	conn, ctx := stacktest.Admin(t, st), context.Background()
	seen := map[string]connSeen{}
	for {
		rows, _ := conn.Query(ctx, `SELECT a.pid, a.backend_start, s.client_serial::text
			FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid
			WHERE a.usename = 'bench_spiffe' AND s.client_serial IS NOT NULL`)
		var cs connSeen
		if _, err := pgx.ForEachRow(rows, []any{&cs.pid, &cs.started, &cs.serial}, func() error {
			seen[fmt.Sprint(cs.pid, cs.started.UnixNano())] = cs
			return nil
		}); err != nil {
			t.Fatalf("poll pg_stat_ssl: %v", err)
		}
		select {
		case <-r.done:
			var out []connSeen
			for _, cs := range seen {
				out = append(out, cs)
			}
			return out
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func testRotationUnderLoad(t *testing.T, c *cli, st *stack.State) {
	w := watchSVIDs(t, st)
	dir := filepath.Join(t.TempDir(), "run")
	r := startRun(t, c, "run", "bank", "--auth", "spiffe", "--concurrency", "4", "--duration", "40s",
		"--spiffe-recycle-on-rotation", "--spiffe-recycle-jitter", "1s", "--out", dir)
	conns := pollSSL(t, st, r)
	r.wait(t)
	s := readSummary(t, dir)
	if tr := s.Op("transfer"); tr.Errors != 0 || tr.Count == 0 {
		t.Errorf("transfer: %d committed, %d failed; want no failures", tr.Count, tr.Errors)
	}
	rotations := eventsOf(s, "rotation")
	t.Logf("%d rotations, %d retirements, %d transfers committed", len(rotations), len(eventsOf(s, "retire")), s.Op("transfer").Count)
	if len(rotations) < 3 {
		t.Errorf("%d rotations in summary.json, want at least 3 in 40 s with a %s SVID TTL", len(rotations), svidTTL)
	}
	if len(eventsOf(s, "retire")) == 0 {
		t.Error("no connection was retired with --spiffe-recycle-on-rotation")
	}
	if _, ok := s.Handshake["credential"]; !ok {
		t.Error("summary.json has no credential handshake phase")
	}
	assertEventSerials(t, rotations, w.all())
	assertTicksHaveRotations(t, dir)
	if !strings.Contains(r.stdout.String(), "[rotation] spiffe new SVID") {
		t.Error("the per-second lines show no SVID rotation")
	}
	c.mustRun("check", "bank", "--run", dir)
	assertServerSawCurrentSVID(t, conns, w.all())
}

// testSPIFFERotateEvery forces new SVIDs through SPIRE every 15 s: each
// recorded forced rotation names the serial that arrived, an SVID the
// Workload API served and the server then saw; none failed. Against a
// socket that is not the stack's, --rotate-every refuses to start.
func testSPIFFERotateEvery(t *testing.T, c *cli, st *stack.State) {
	w := watchSVIDs(t, st)
	dir := filepath.Join(t.TempDir(), "run")
	r := startRun(t, c, "run", "bank", "--auth", "spiffe", "--concurrency", "4", "--duration", "35s",
		"--rotate-every", "15s", "--spiffe-recycle-jitter", "1s", "--out", dir)
	conns := pollSSL(t, st, r)
	r.wait(t)
	s := readSummary(t, dir)
	if failed := eventsOf(s, results.RotationFailed); len(failed) > 0 || s.RotationsFailed != 0 {
		t.Errorf("%d failed rotations: %+v", s.RotationsFailed, failed)
	}
	forced := eventsOf(s, results.ForcedRotation)
	if len(forced) < 2 {
		t.Fatalf("%d forced rotations in 35 s with --rotate-every 15s, want 2; events %+v", len(forced), s.Events)
	}
	seen := map[string]bool{}
	for _, cs := range conns {
		seen[cs.serial] = true
	}
	for _, e := range forced {
		m := arrivedSerial.FindStringSubmatch(e.Detail)
		if m == nil || !strings.Contains(e.Detail, "registration entry") {
			t.Errorf("forced rotation %q names no entry update and no arrived serial", e.Detail)
			continue
		}
		var served *svidUpdate
		for _, u := range w.all() {
			if u.serialHx == m[1] {
				served = &u
			}
		}
		if served == nil || !seen[served.serial] {
			t.Errorf("forced rotation %q: served by the Workload API %v, presented to the server %v", e.Detail, served != nil, served != nil && seen[served.serial])
		}
	}
	assertEventSerials(t, eventsOf(s, "rotation"), w.all())
	c.mustRun("check", "bank", "--run", dir)

	link := filepath.Join(t.TempDir(), "agent.sock") // the same agent, but not the address the stack rotates for
	if err := os.Symlink(spiffe.Of(st).SocketPath, link); err != nil {
		t.Fatal(err)
	}
	assertOneLineError(t, c.run("run", "bank", "--auth", "spiffe", "--duration", "1s", "--rotate-every", "5s", "--spiffe-socket", "unix://"+link), 1,
		"--rotate-every with --auth spiffe", "is not the stack's")
}

// testForeignSPIRE runs the mode against a SPIRE the stack does not run:
// its SVIDs are refused until `stack up --client-ca` adds its bundle, which
// a later Up keeps.
func testForeignSPIRE(t *testing.T, c *cli, st *stack.State) {
	foreign := stacktest.StartSPIRE(t, "foreign.test", time.Hour)
	foreign.Register(t, spire.Entry{ID: "foreign-client", SPIFFEID: "spiffe://foreign.test/authbench/bench_spiffe", DNSNames: []string{"bench_spiffe"},
		Selectors: []string{"unix:uid:" + strconv.Itoa(os.Getuid())}})
	run := []string{"run", "bank", "--auth", "spiffe", "--duration", "2s", "--spiffe-socket", foreign.Endpoint(), "--out", filepath.Join(t.TempDir(), "foreign")}
	assertOneLineError(t, c.run(run...), 1, "refused the SVID spiffe://foreign.test/authbench/bench_spiffe", "ssl_ca_file")

	assertOneLineError(t, c.run("stack", "up", "--dir", t.TempDir(), "--client-ca", "/nonexistent/bundle.pem"), 2, "--client-ca /nonexistent/bundle.pem")
	ctx := context.Background()
	// A client CA is kept by every later Up, so its file must live as long
	// as the stack, not the subtest.
	bundle := filepath.Join(st.Dir, "foreign-bundle.pem")
	if err := os.WriteFile(bundle, []byte(readFile(t, foreign.BundleFile(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.Up(ctx, stack.Config{Dir: st.Dir, ClientCAs: []string{bundle}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.Up(ctx, stack.Config{Dir: st.Dir}, nil); err != nil { // a later Up keeps it
		t.Fatal(err)
	}
	c.mustRun(run...)
	c.mustRun("run", "bank", "--auth", "spiffe", "--duration", "2s", "--out", filepath.Join(t.TempDir(), "stack")) // the stack's SPIRE still works
}

// arrivedSerial is the serial a forced SPIFFE rotation saw arrive.
var arrivedSerial = regexp.MustCompile(`serial=([0-9a-f]+) arrived`)

// eventsOf returns the spiffe events of kind.
func eventsOf(s *results.Summary, kind string) []results.Event {
	var out []results.Event
	for _, e := range s.Events {
		if e.Kind == kind && e.Source == "spiffe" {
			out = append(out, e)
		}
	}
	return out
}

// assertEventSerials checks that every SVID the driver reported is one the
// independent watch saw.
func assertEventSerials(t *testing.T, events []results.Event, updates []svidUpdate) {
	t.Helper()
	for _, e := range events {
		found := false
		for _, u := range updates {
			found = found || strings.Contains(e.Detail, "serial="+u.serialHx+" ")
		}
		if !found {
			t.Errorf("rotation event %q names an SVID the Workload API never served", e.Detail)
		}
	}
}

func assertTicksHaveRotations(t *testing.T, dir string) {
	t.Helper()
	ticks, err := results.ReadTicks(filepath.Join(dir, "ticks.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range ticks {
		for _, e := range tk.Events {
			if e.Kind == "rotation" && e.Source == "spiffe" {
				return
			}
		}
	}
	t.Error("ticks.ndjson has no SVID rotation event")
}

// assertServerSawCurrentSVID checks that each connection presented, as
// PostgreSQL's pg_stat_ssl.client_serial shows it, an SVID the Workload API
// served that was valid when the connection was opened: issued at or before
// then and not yet expired. The agent renews an SVID at about half its
// lifetime, so that is the SVID current then or the one it replaced (the driver may learn
// of a new SVID before or after the test's own watch does, by any delay, and
// a connection starts with the SVID the driver had when it began to dial);
// no margin around a rotation is assumed. The connections must also have
// presented at least two SVIDs: the driver moved on to new ones.
func assertServerSawCurrentSVID(t *testing.T, conns []connSeen, updates []svidUpdate) {
	t.Helper()
	served := map[string]svidUpdate{}
	for _, u := range updates {
		served[u.serial] = u
	}
	judged := map[string]int{}
	for _, cs := range conns {
		u, ok := served[cs.serial]
		if !ok {
			t.Errorf("backend %d opened at %s presented serial %s, an SVID the Workload API never served",
				cs.pid, cs.started.Format(time.StampMilli), cs.serial)
			continue
		}
		judged[cs.serial]++
		// NotAfter is in whole seconds, rounded down: minted is at or before
		// the real issuance (SPIRE's NotBefore is 10 s earlier still), so
		// the check never fails a connection early.
		minted := u.notAfter.Add(-svidTTL)
		if cs.started.Before(minted) || cs.started.After(u.notAfter) {
			t.Errorf("backend %d opened at %s presented serial %s, valid only from %s to %s",
				cs.pid, cs.started.Format(time.StampMilli), cs.serial, minted.Format(time.StampMilli), u.notAfter.Format(time.StampMilli))
		}
	}
	t.Logf("%d backends seen in pg_stat_ssl; per SVID serial: %v", len(conns), judged)
	if len(judged) < 2 {
		t.Errorf("connections presented %d distinct SVIDs (%d backends seen); want at least 2", len(judged), len(conns))
	}
}

// testAgentOutage stops the SPIRE agent under a run until its SVID has
// expired, cuts the run's connections, starts the agent again and ends the
// run once the driver has had its new SVID for a few seconds. The run is a
// closed loop: every worker keeps a pooled connection busy, so the pool
// holds --concurrency connections all along and opens none while the SVID
// is expired, until the test cuts them (an open loop may open one at any
// time).
func testAgentOutage(t *testing.T, c *cli, st *stack.State, cfg spiffe.Settings) {
	dir := filepath.Join(t.TempDir(), "run")
	r := startRun(t, c, "run", "bank", "--auth", "spiffe", "--concurrency", "4", "--duration", "0",
		"--tolerate-errors", "--max-retries", "5", "--metrics-addr", "", "--out", dir) // few retries: a failed connect is reported soon
	r.waitLine(t, " transfer")
	sp, err := spiffe.Of(st).SPIRE()
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Stop(spire.AgentProc, io.Discard); err != nil {
		t.Fatal(err)
	}
	// No SVID issued before the stop outlives it by more than the TTL,
	// however late the last one reached the driver.
	o := outage{expiry: time.Now().Add(cfg.TTL)}
	time.Sleep(time.Until(o.expiry.Add(3 * time.Second))) // open connections outlive the SVID
	o.terminated = time.Now()
	terminateBackends(t, st) // every new connection now needs the expired SVID
	time.Sleep(2 * time.Second)
	r.drain() // the agent is down: no rotation line until it is back
	o.restarted = time.Now()
	up := stack.Config{Dir: st.Dir}
	spiffe.Enable(&up, cfg)
	if _, err := stack.Up(context.Background(), up, nil); err != nil {
		t.Fatal(err)
	}
	waitMatch(t, r, spiffeRotationLine) // go-spiffe reconnects with a backoff
	for range recoveredTicks {
		waitMatch(t, r, anyTick)
	}
	r.interrupt(t)
	s := readSummary(t, dir)
	o.check(t, s, dir)
	c.mustRun("check", "bank", "--run", dir)
}

// spiffeRotationLine is the line of a new SVID the driver received.
var spiffeRotationLine = regexp.MustCompile(`\[rotation\] spiffe new SVID`)

// recoveredTicks is how many per-second lines an outage run goes on for
// after its new SVID: the line of the second that got it, two seconds the
// driver has to reconnect, and 5 judged as recovered (check wants 3).
const recoveredTicks = 8

// terminateBackends ends every connection of the driver from the server side.
func terminateBackends(t *testing.T, st *stack.State) {
	t.Helper()
	ended, err := faults.TerminateSessions(context.Background(), stacktest.Admin(t, st), "bench_spiffe")
	if err != nil || ended == 0 {
		t.Fatalf("terminated %d backends of bench_spiffe: %v", ended, err)
	}
}

// outage is when the SVID expired with the agent down, when the test cut
// the driver's connections, and when the agent was started again.
type outage struct {
	expiry, terminated, restarted time.Time
}

// check checks the run through the outage: open connections kept working
// after the SVID expired, new ones failed with auth errors, and the driver
// recovered once the agent was back.
func (o outage) check(t *testing.T, s *results.Summary, dir string) {
	t.Helper()
	if s.Errors["auth"] == 0 || s.Errors["other"] != 0 {
		t.Errorf("errors by class %v: want auth errors (expired SVID) and no unclassified ones", s.Errors)
	}
	for _, kind := range []string{"watch-error", "expired"} {
		if len(eventsOf(s, kind)) == 0 {
			t.Errorf("no %q event", kind)
		}
	}
	recovered := firstAfter(eventsOf(s, "rotation"), o.restarted)
	if recovered.IsZero() {
		t.Fatalf("no new SVID after the agent restarted; events: %+v", s.Events)
	}
	ticks, err := results.ReadTicks(filepath.Join(dir, "ticks.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var expired, after int
	for _, tk := range ticks {
		op := tk.Ops[0]
		from := tk.Time.Add(-time.Duration(tk.IntervalS * float64(time.Second)))
		switch {
		case from.After(o.expiry.Add(300*time.Millisecond)) && tk.Time.Before(o.terminated):
			expired++
			if op.Count == 0 || op.Errors != 0 {
				t.Errorf("second ending %.0fs, SVID expired, connections open: %d committed, %d failed", tk.Elapsed, op.Count, op.Errors)
			}
		case from.After(recovered.Add(2*time.Second)) && tk.IntervalS >= 0.9: // not the partial second at the interrupt
			after++
			if op.Errors != 0 || op.Count == 0 {
				t.Errorf("second ending %.0fs after recovery: %d committed, %d failed (run: %v errors by class)", tk.Elapsed, op.Count, op.Errors, s.Errors)
			}
		}
	}
	t.Logf("outage: %d s judged with the SVID expired and connections open, new SVID %.1fs after the agent restarted, %d s judged after; errors by class %v",
		expired, recovered.Sub(o.restarted).Seconds(), after, s.Errors)
	if expired == 0 || after < 3 {
		t.Errorf("%d seconds judged with the SVID expired, %d after recovery; want at least 1 and 3", expired, after)
	}
}

// firstAfter returns the time of the first event after t (zero: none).
func firstAfter(events []results.Event, t time.Time) time.Time {
	for _, e := range events {
		if e.Time.After(t) {
			return e.Time
		}
	}
	return time.Time{}
}

// TestSPIFFECARotationUnderLoad runs the bank through a rotation of SPIRE's
// own CA (a CA of 2 minutes: SPIRE adds the next CA to its bundle at half
// of that and signs with it once a sixth is left). The stack's bundle
// watcher must have put the new CA into PostgreSQL's client CAs by then:
// no transaction fails, and the server sees SVIDs of both CAs.
func TestSPIFFECARotationUnderLoad(t *testing.T) {
	stacktest.RequireSPIRE(t)
	st := stacktest.Start(t, func(c *stack.Config) {
		spiffe.Enable(c, spiffe.Settings{TTL: svidTTL, CATTL: spiffe.MinCATTL})
	})
	c := newCLI(t, st)
	c.mustRun("init", "bank", "--auth", "spiffe", "--accounts", "5000", "--initial-balance", "500")
	w := watchSVIDs(t, st)
	dir := filepath.Join(t.TempDir(), "run")
	r := startRunFor(t, c, 5*time.Minute, "run", "bank", "--auth", "spiffe", "--concurrency", "4", "--duration", "130s",
		"--spiffe-recycle-jitter", "1s", "--metrics-addr", "", "--out", dir)
	conns := pollSSL(t, st, r)
	r.wait(t)
	s := readSummary(t, dir)
	if tr := s.Op("transfer"); tr.Errors != 0 || tr.Count == 0 {
		t.Errorf("transfer: %d committed, %d failed across SPIRE's CA rotation; want no failures", tr.Count, tr.Errors)
	}
	caOf := map[string]string{}
	for _, u := range w.all() {
		caOf[u.serial] = u.ca
	}
	seen := map[string]int{}
	for _, cs := range conns {
		if ca, ok := caOf[cs.serial]; ok {
			seen[ca]++
		}
	}
	t.Logf("backends per signing CA: %v", seen)
	if len(seen) < 2 {
		t.Errorf("the server saw SVIDs of %d CA(s), want the old and the new one", len(seen))
	}
	log, _ := os.ReadFile(st.LogFile("spiffe"))
	if !strings.Contains(string(log), "trust bundle changed") {
		t.Errorf("the bundle watcher's log has no bundle change:\n%s", log)
	}
	c.mustRun("check", "bank", "--run", dir)
}
