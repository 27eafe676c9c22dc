package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/kdc"
	"github.com/authbench/authbench/stack/stacktest"
)

// gssTicketLife is the ticket lifetime of the Kerberos stack: short, so a
// 75 s run sees several renewals.
const gssTicketLife = 30 * time.Second

// gssRun are the arguments of a gssapi bank run with the custom SPN.
var gssRun = []string{"run", "bank", "--auth", "gssapi", "--krbsrvname", "customspn"}

func TestGSSAPIAgainstStack(t *testing.T) {
	st := stacktest.Start(t, func(c *stack.Config) { kdc.Enable(c, kdc.Settings{TicketLifetime: gssTicketLife}) })
	c := newCLI(t, st)
	c.mustRun("init", "bank", "--accounts", "200", "--initial-balance", "500")

	// Each subtest gets a cli of its own, so a failure stops only it.
	sub := func(t *testing.T) *cli { return &cli{t: t, env: c.env} }
	t.Run("run", func(t *testing.T) { testGSSRun(t, sub(t), st) })
	t.Run("reference-client", func(t *testing.T) { testGSSReferenceClient(t, sub(t), st) })
	t.Run("one-line-errors", func(t *testing.T) { testGSSErrors(t, sub(t)) })
	t.Run("renewal-under-load", func(t *testing.T) { testGSSRenewal(t, sub(t)) })
	t.Run("kdc-stopped", func(t *testing.T) { testGSSKDCStopped(t, sub(t), st) }) // last: it stops the KDC
}

// testGSSRun runs the bank through HAProxy and asks the server, while the
// run goes on, who its connections authenticated as.
func testGSSRun(t *testing.T, c *cli, st *stack.State) {
	dir := filepath.Join(t.TempDir(), "run")
	p := gssStart(t, c, append(gssRun, "--concurrency", "4", "--duration", "4s", "--out", dir)...)
	authed, other := gssBackends(t, st, p, 4)
	if err := p.wait(); err != nil {
		t.Fatalf("run: %v\n%s", err, p.out.String())
	}
	if authed < 4 || other != 0 {
		t.Errorf("pg_stat_gssapi: %d bench_gss backends authenticated as bench_gss@EXAMPLE.COM (want >= 4), %d others (want 0)", authed, other)
	}
	s := readSummary(t, dir)
	if _, ok := s.Handshake["credential"]; !ok || !strings.Contains(p.out.String(), "credential") {
		t.Errorf("no credential handshake phase: summary %v", s.Handshake)
	}
	if n := len(gssEvents(s, "login", false)); n != 1 || s.Op("transfer").Errors != 0 {
		t.Errorf("%d first logins (want 1), %d errors: %+v", n, s.Op("transfer").Errors, s.Events)
	}
	c.mustRun("check", "bank", "--run", dir)
}

// gssProc is the CLI running in the background.
type gssProc struct {
	out  bytes.Buffer
	done chan struct{}
	err  error
}

// gssStart starts the CLI in the background; the process is killed if the
// test ends first.
func gssStart(t *testing.T, c *cli, args ...string) *gssProc {
	t.Helper()
	p := &gssProc{done: make(chan struct{})}
	cmd := exec.Command(binPath, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = c.env, &p.out, &p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if !p.exited() {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *gssProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process and returns its error.
func (p *gssProc) wait() error {
	<-p.done
	return p.err
}

// gssBackends polls pg_stat_gssapi until it shows want authenticated
// backends of bench_gss or the run ends; it returns the best count seen and
// how many bench_gss backends were not authenticated by Kerberos.
func gssBackends(t *testing.T, st *stack.State, p *gssProc, want int) (authed, other int) {
	t.Helper()
	conn := stacktest.Admin(t, st)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const q = `SELECT count(*) FILTER (WHERE g.gss_authenticated AND g.principal = 'bench_gss@EXAMPLE.COM'),
	                  count(*) FILTER (WHERE NOT g.gss_authenticated OR g.principal IS DISTINCT FROM 'bench_gss@EXAMPLE.COM')
	           FROM pg_stat_gssapi g JOIN pg_stat_activity a ON a.pid = g.pid WHERE a.usename = 'bench_gss'`
	for ctx.Err() == nil && authed < want {
		var a, o int
		if err := conn.QueryRow(ctx, q).Scan(&a, &o); err != nil {
			t.Fatal(err)
		}
		authed, other = max(authed, a), max(other, o)
		if p.exited() {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return authed, other
}

// testGSSReferenceClient checks the stack with MIT's kinit and libpq's psql,
// then runs the driver from the ccache kinit left.
func testGSSReferenceClient(t *testing.T, c *cli, st *stack.State) {
	ccache := "FILE:" + filepath.Join(t.TempDir(), "ccache")
	env := append(os.Environ(), "KRB5_CONFIG="+kdc.Of(st).Krb5Conf, "KRB5CCNAME="+ccache, "LC_ALL=C")
	keytab := kdc.Of(st).ClientKeytab("bench_gss")
	if out, err := gssTool(env, "kinit", "-kt", keytab, "bench_gss@EXAMPLE.COM"); err != nil {
		t.Fatalf("kinit -kt %s: %v: %s", keytab, err, out)
	}
	dsn := func(srv string) string {
		return "host=localhost port=" + strconv.Itoa(st.LBPort) + " dbname=" + st.Database + " user=bench_gss krbsrvname=" + srv +
			" gssencmode=disable sslmode=verify-full sslrootcert=" + st.CAFile + " connect_timeout=10"
	}
	out, err := gssTool(env, "psql", dsn("customspn"), "-XAtc", "SELECT principal FROM pg_stat_gssapi WHERE pid = pg_backend_pid()")
	if err != nil || strings.TrimSpace(out) != "bench_gss@EXAMPLE.COM" {
		t.Errorf("psql krbsrvname=customspn: %v: %q, want bench_gss@EXAMPLE.COM", err, out)
	}
	out, err = gssTool(env, "psql", dsn("dummy"), "-XAtc", "SELECT 1")
	if err == nil || !strings.Contains(out, "not found in Kerberos database") {
		t.Errorf("psql krbsrvname=dummy: %v: %q, want a failure with 'not found in Kerberos database'", err, out)
	}
	cc := &cli{t: t, env: append(append([]string{}, c.env...), "KRB5CCNAME="+ccache)}
	dir := filepath.Join(t.TempDir(), "run")
	cc.mustRun(append(gssRun, "--krb-source", "ccache", "--concurrency", "2", "--duration", "1s", "--out", dir)...)
	if s := readSummary(t, dir); s.AuthConf["krb_source"] != "ccache" {
		t.Errorf("auth settings %v, want krb_source ccache", s.AuthConf)
	}
}

func gssTool(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func testGSSErrors(t *testing.T, c *cli) {
	start := time.Now()
	assertOneLineError(t, c.run("run", "bank", "--auth", "gssapi", "--krbsrvname", "dummy", "--duration", "5s"), 1,
		"dummy/localhost@EXAMPLE.COM", "not found in Kerberos database", "--krbsrvname")
	t.Logf("wrong SPN failed after %s", time.Since(start).Round(time.Millisecond))
	assertOneLineError(t, c.run(append(gssRun, "--krb-keytab", "/nonexistent/bench_gss.keytab")...), 1,
		"/nonexistent/bench_gss.keytab", "--krb-keytab")
	assertOneLineError(t, c.run(append(gssRun, "--krb-principal", "bench_gss@OTHER.COM")...), 1, "realm OTHER.COM")
	assertOneLineError(t, c.run("stack", "up", "--dir", t.TempDir(), "--ticket-lifetime", "10ms"), 2, "--ticket-lifetime")
}

// testGSSRenewal runs 75 s on 30 s tickets, with connections retired every
// ~10 s so new ones need tickets from the renewed TGT.
func testGSSRenewal(t *testing.T, c *cli) {
	dir := filepath.Join(t.TempDir(), "run")
	c.mustRun(append(gssRun, "--concurrency", "4", "--duration", "75s", "--quiet",
		"--max-conn-lifetime", "10s", "--max-conn-lifetime-jitter", "2s", "--out", dir)...)
	s := readSummary(t, dir)
	refreshed := append(gssEvents(s, "renewal", true), gssEvents(s, "login", true)...)
	if len(refreshed) < 2 {
		t.Errorf("%d renewals or re-logins in 75 s with %s tickets, want >= 2: %+v", len(refreshed), gssTicketLife, s.Events)
	}
	t.Logf("75 s on %s tickets: %d renewals or re-logins, %d connections opened, %d transfers", gssTicketLife, len(refreshed), s.Connections.Opened, s.Op("transfer").Count)
	if tr := s.Op("transfer"); tr.Errors != 0 || tr.Count == 0 {
		t.Errorf("transfers: %d ok, %d failed (want 0 failed); errors by class %v", tr.Count, tr.Errors, s.Errors)
	}
	if s.Connections.Opened <= 4 || s.Connections.Failed != 0 {
		t.Errorf("connections opened %d (want > 4: retired ones replaced), failed %d", s.Connections.Opened, s.Connections.Failed)
	}
	ticks, err := os.ReadFile(filepath.Join(dir, "ticks.ndjson"))
	if err != nil || !bytes.Contains(ticks, []byte(`"kind":"renewal"`)) && !bytes.Contains(ticks, []byte(`"kind":"login"`)) {
		t.Errorf("ticks.ndjson has no login or renewal event (%v)", err)
	}
	c.mustRun("check", "bank", "--run", dir)
}

// gssEvents returns the gssapi events of kind with the given rotation flag.
func gssEvents(s *results.Summary, kind string, rotation bool) []results.Event {
	var out []results.Event
	for _, e := range s.Events {
		if e.Source == "gssapi" && e.Kind == kind && e.Rotation == rotation {
			out = append(out, e)
		}
	}
	return out
}

func testGSSKDCStopped(t *testing.T, c *cli, st *stack.State) {
	k, err := kdc.Load(kdc.Of(st).KDCDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := kdc.Stop(k.Dir); err != nil {
		t.Fatal(err)
	}
	assertOneLineError(t, c.run(append(gssRun, "--duration", "2s")...), 1,
		"cannot reach the KDC of realm EXAMPLE.COM at 127.0.0.1:"+strconv.Itoa(k.Port), kdc.Of(st).Krb5Conf)
}
