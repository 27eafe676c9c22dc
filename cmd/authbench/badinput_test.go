package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/kdc"
	"github.com/authbench/authbench/stack/pki"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/stack/vault"
)

// badCase is one bad invocation: the exit code it must end with (2 for a
// usage error, 1 for a runtime error) and what its one stderr line must
// say: what is wrong and how to fix it.
type badCase struct {
	name string
	args []string
	code int
	want []string
}

// runBad runs each case with env and checks its single error line.
func runBad(t *testing.T, env []string, cases []badCase) {
	t.Helper()
	c := &cli{env: env}
	for _, bc := range cases {
		t.Run(bc.name, func(t *testing.T) {
			start := time.Now()
			o := c.with(t).run(bc.args...)
			assertOneLineError(t, o, bc.code, bc.want...)
			if elapsed := time.Since(start); elapsed > 30*time.Second {
				t.Logf("took %s", elapsed.Round(time.Millisecond))
			}
		})
	}
}

// TestBadInput runs bad invocations that need no servers: usage errors,
// files that are missing, unreadable, mismatched or corrupt, and servers
// that are not there. The environment has no stack variables in it.
func TestBadInput(t *testing.T) {
	fx := newBadFixture(t)
	dead := freeAddr(t)
	run := []string{"run", "bank", "--duration", "1s", "--metrics-addr", "", "--ca", fx.ca}
	cases := []badCase{
		{"unknown command", []string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`, "authbench help"}},
		{"no workload", []string{"run"}, 2, []string{"missing workload", "bank, orders"}},
		{"unknown workload", []string{"run", "nosuch"}, 2, []string{`unknown workload "nosuch"`, "bank, orders"}},
		{"unknown auth mode", []string{"run", "bank", "--auth", "nosuch"}, 2, []string{`unknown auth mode "nosuch"`, strings.Join(authmodes.Names(), ", ")}},
		{"zero concurrency", []string{"run", "bank", "--concurrency", "0"}, 2, []string{"--concurrency must be at least 1", "got 0"}},
		{"unknown txn style", []string{"run", "orders", "--txn-style", "orm"}, 2, []string{"--txn-style", `"orm"`, "pipelined, app, single"}},
		{"unknown retry protocol", []string{"run", "bank", "--retry-protocol", "again"}, 2, []string{"--retry-protocol must be full or savepoint", `"again"`}},
		{"matrix unknown txn style", []string{"matrix", "--txn-style", "app,orm"}, 2, []string{"--txn-style", `"orm"`, "pipelined, app, single"}},
		{"negative concurrency", []string{"run", "bank", "--concurrency", "-3"}, 2, []string{"--concurrency must be at least 1", "got -3"}},
		{"unparsable duration", []string{"run", "bank", "--duration", "soon"}, 2, []string{`"soon"`, "--duration", `like "30s"`}},
		{"unparsable ramp", []string{"run", "bank", "--ramp", "5x"}, 2, []string{`"5x"`, "--ramp", `like "30s"`}},
		{"unparsable rotation period", []string{"run", "bank", "--rotate-every", "often"}, 2, []string{`"often"`, "--rotate-every"}},
		{"negative duration", []string{"run", "bank", "--duration", "-5s"}, 2, []string{"--duration must not be negative"}},
		{"negative instances", []string{"run", "bank", "--instances", "-2"}, 2, []string{"--instances must not be negative", "got -2"}},
		{"negative pool size", []string{"run", "bank", "--pool-size", "-1"}, 2, []string{"--pool-size must not be negative"}},
		{"no instances", []string{"run", "bank", "--instances", "0"}, 2, []string{"--instances must be at least 1", "got 0"}},
		{"spread without a fleet rotation", []string{"run", "bank", "--rotate-spread", "5s"}, 2, []string{"--rotate-spread", "add --rotate-every and --instances"}},
		{"negative rotation spread", []string{"run", "bank", "--rotate-spread", "-5s"}, 2, []string{"--rotate-spread must not be negative"}},
		{"fleet per transaction", []string{"run", "bank", "--instances", "4", "--conn-mode", "per-txn"}, 2, []string{"--instances and --pool-size", "--conn-mode pool"}},
		{"unknown flag", []string{"run", "bank", "--frobnicate"}, 2, []string{"unknown flag: --frobnicate", "authbench run --help"}},
		{"malformed DSN", []string{"run", "bank", "--url", "postgresql://u@localhost:%zz/db"}, 2, []string{"invalid percent-encoded", "check --url"}},
		{"DSN without verify-full", []string{"run", "bank", "--url", "postgresql://u@localhost/db?sslmode=require"}, 2, []string{"sslmode=verify-full", "--insecure"}},
		{"unknown sslmode", []string{"run", "bank", "--sslmode", "bogus"}, 2, []string{`unknown --sslmode "bogus"`, "verify-full"}},
		{"weak sslmode without --insecure", []string{"run", "bank", "--sslmode", "require"}, 2, []string{"does not fully verify", "add --insecure"}},
		{"bad conn mode", []string{"run", "bank", "--conn-mode", "bogus"}, 2, []string{"--conn-mode must be pool or per-txn"}},
		{"bad start time", []string{"run", "bank", "--start-at", "tomorrow"}, 2, []string{"--start-at must be an RFC 3339 time"}},
		{"bad mix", []string{"run", "orders", "--mix", "refund=3"}, 2, []string{`unknown op "refund"`, "name=weight"}},
		{"unknown stack subcommand", []string{"stack", "frobnicate"}, 2, []string{`unknown stack subcommand "frobnicate"`, "up, down, status or env"}},
		{"status without a stack", []string{"stack", "status", "--dir", filepath.Join(fx.dir, "nostack")}, 1, []string{"no stack in " + filepath.Join(fx.dir, "nostack"), "run `authbench stack up`"}},
		{"serve without a stack", []string{"stack", "serve-vault", "--dir", filepath.Join(fx.dir, "nostack")}, 1, []string{"no stack in", "run `authbench stack up`"}},
		{"unknown component to leave out", []string{"stack", "up", "--dir", filepath.Join(fx.dir, "nostack"), "--without", "kdc"}, 2, []string{`unknown component "kdc" in --without`, orList(omittable())}},
		{"bad stack flag", []string{"stack", "up", "--dir", filepath.Join(fx.dir, "nostack"), "--svid-ttl", "10ms"}, 2, []string{"--svid-ttl must be at least"}},
		{"merge without directories", []string{"merge"}, 2, []string{"missing run directories", "merge RUN_DIR"}},
		{"unreachable host", append(run, "--host", "127.0.0.1", "--port", dead.port, "--user", "bench_cert", "--certs-dir", fx.certs), 1,
			[]string{"connection refused", "is the database (or load balancer) up? check --host/--port"}},
		{"missing cert", append(run, "--user", "bench_cert", "--cert", "/nonexistent/c.crt", "--key", "/nonexistent/c.key"), 1, []string{"/nonexistent/c.crt", "no such file", "check --cert/--key"}},
		{"unreadable cert", append(run, "--user", "bench_cert", "--cert", fx.dirAsFile, "--key", fx.keyA), 1, []string{fx.dirAsFile, "is a directory", "check --cert/--key"}},
		{"mismatched cert and key", append(run, "--user", "bench_cert", "--cert", fx.certA, "--key", fx.keyB), 1, []string{"private key does not match", "check --cert/--key"}},
		{"missing password file", append(run, "--auth", "password", "--user", "u", "--password-file", "/nonexistent/pw"), 1, []string{"/nonexistent/pw", "check --password-file"}},
		{"missing keytab", append(run, "--auth", "gssapi", "--user", "bench_gss", "--krb5-conf", fx.krb5Conf(t, dead.addr), "--krb-keytab", "/nonexistent/bench_gss.keytab"), 1,
			[]string{"/nonexistent/bench_gss.keytab", "check --krb-keytab"}},
		{"vault unreachable", append(run, "--auth", "vault", "--vault-addr", "http://"+dead.addr, "--vault-token-file", fx.token, "--vault-role", "bench"), 1,
			[]string{"Vault at http://" + dead.addr + " is unreachable", "check --vault-addr"}},
		{"no workload API socket", append(run, "--auth", "spiffe", "--user", "bench_spiffe", "--spiffe-socket", "unix:///nonexistent/agent.sock"), 1,
			[]string{"no SPIFFE Workload API socket at /nonexistent/agent.sock", "--spiffe-socket"}},
		{"check of another workload's run", []string{"check", "bank", "--run", fx.ordersRun}, 1, []string{"is from workload orders, not bank", "authbench check orders"}},
		{"check of a directory without a run", []string{"check", "bank", "--run", fx.dirAsFile}, 1, []string{"cannot read run summary", "authbench run"}},
		{"corrupt hlog to merge", []string{"merge", fx.goodRun, fx.badHlogRun, "--out", filepath.Join(fx.dir, "m1")}, 1,
			[]string{"transfer.hlog is not a valid HdrHistogram log", results.DamagedHint}},
		{"corrupt ticks to merge", []string{"merge", fx.goodRun, fx.badTicksRun, "--out", filepath.Join(fx.dir, "m2")}, 1,
			[]string{"ticks.ndjson line 1 is not a valid tick", results.DamagedHint}},
		{"corrupt ticks to report", []string{"report", fx.badTicksRun, "--out", filepath.Join(fx.dir, "r.html")}, 1,
			[]string{"ticks.ndjson line 1 is not a valid tick", results.DamagedHint}},
		{"corrupt summary to report", []string{"report", fx.badSummaryRun, "--out", filepath.Join(fx.dir, "r2.html")}, 1,
			[]string{"summary.json is not a valid summary.json", results.DamagedHint}},
	}
	runBad(t, cleanEnv(), cases)
	// The corrupt files are the cause: the intact runs merge and report.
	c := &cli{t: t, env: cleanEnv()}
	c.mustRun("merge", fx.goodRun, fx.goodRun2, "--out", filepath.Join(fx.dir, "merged"))
	c.mustRun("report", fx.goodRun, "--out", filepath.Join(fx.dir, "ok.html"))
}

// TestBadInputAgainstStack runs the bad invocations that need servers to
// be wrong about: a CA, an SPN, a token, a role, a KDC that is down, a run
// directory that cannot be created once connected.
func TestBadInputAgainstStack(t *testing.T) {
	st := stacktest.Start(t, func(c *stack.Config) {
		kdc.Enable(c, kdc.Settings{})
		vault.Enable(c, vault.Settings{})
	})
	c := newCLI(t, st)
	c.mustRun("init", "bank", "--accounts", "100")
	fx := newBadFixture(t)
	dead := freeAddr(t)
	deadKDC := copyKrb5Conf(t, kdc.Of(st).Krb5Conf, dead.addr)
	run := []string{"run", "bank", "--duration", "1s", "--metrics-addr", ""}
	gss := append(run, "--auth", "gssapi", "--krbsrvname", "customspn")
	bogus := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(bogus, []byte("hvs.not-a-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runBad(t, c.env, []badCase{
		{"wrong CA", append(run, "--ca", fx.ca), 1, []string{"certificate signed by unknown authority", "check --ca"}},
		{"user the server refuses", append(run, "--auth", "password", "--user", "nosuchuser"), 1, []string{`user "nosuchuser"`, "the server refused the credentials of --auth password"}},
		{"wrong SPN", append(run, "--auth", "gssapi", "--krbsrvname", "dummy"), 1, []string{"dummy/localhost@EXAMPLE.COM not found in Kerberos database", "check --krbsrvname"}},
		{"stopped KDC", append(gss, "--krb5-conf", deadKDC), 1, []string{"cannot reach the KDC of realm EXAMPLE.COM at " + dead.addr, "is it running?"}},
		{"vault bad token", append(run, "--auth", "vault", "--vault-token-file", bogus), 1, []string{"Vault refused the token from " + bogus, "check --vault-token-file"}},
		{"vault unknown role", append(run, "--auth", "vault", "--vault-role", "nosuch"), 1, []string{`Vault has no role "nosuch"`, "check --vault-role"}},
		{"run directory not writable", append(run, "--out", filepath.Join(fx.dirAsFile+".file", "run")), 1, []string{"cannot create run directory", "choose another with --out"}},
	})
}

// badFixture holds the files the bad invocations point at.
type badFixture struct {
	dir, ca, certs           string
	certA, keyA, keyB        string
	dirAsFile, token         string
	goodRun, goodRun2        string
	badHlogRun, badTicksRun  string
	badSummaryRun, ordersRun string
}

func newBadFixture(t *testing.T) *badFixture {
	t.Helper()
	dir := t.TempDir()
	fx := &badFixture{dir: dir, certs: filepath.Join(dir, "certs"), dirAsFile: filepath.Join(dir, "client.crt.d")}
	ca, err := pki.LoadOrCreateCA(filepath.Join(dir, "ca"), "some other CA")
	if err != nil {
		t.Fatal(err)
	}
	fx.ca = filepath.Join(dir, "ca", "ca.crt")
	if fx.certA, fx.keyA, err = ca.IssueClient(fx.certs, "bench_cert", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, fx.keyB, err = ca.IssueClient(fx.certs, "other", time.Hour); err != nil {
		t.Fatal(err)
	}
	// Root reads any file whatever its mode: a directory is what stays
	// unreadable as a certificate.
	must(t, os.Mkdir(fx.dirAsFile, 0o755))
	must(t, os.WriteFile(fx.dirAsFile+".file", []byte("a regular file\n"), 0o644))
	fx.token = filepath.Join(dir, "token")
	must(t, os.WriteFile(fx.token, []byte("hvs.whatever\n"), 0o600))
	fx.runDirs(t)
	return fx
}

// runDirs writes intact run directories and damaged copies of them.
func (fx *badFixture) runDirs(t *testing.T) {
	t.Helper()
	runDir := func(name, workload string) string {
		d := filepath.Join(fx.dir, name)
		writeRunDir(t, d, workload)
		return d
	}
	fx.goodRun, fx.goodRun2 = runDir("good", "bank"), runDir("good2", "bank")
	fx.ordersRun = runDir("orders", "orders")
	fx.badHlogRun = runDir("bad-hlog", "bank")
	hlog := filepath.Join(fx.badHlogRun, "transfer"+results.HlogSuffix)
	b, err := os.ReadFile(hlog)
	must(t, err)
	must(t, os.WriteFile(hlog, b[:len(b)*2/3], 0o644)) // cut inside a histogram
	fx.badTicksRun = runDir("bad-ticks", "bank")
	must(t, os.WriteFile(filepath.Join(fx.badTicksRun, results.TicksFile), []byte("{\"time\": 12\n"), 0o644))
	fx.badSummaryRun = runDir("bad-summary", "bank")
	must(t, os.WriteFile(filepath.Join(fx.badSummaryRun, results.SummaryFile), []byte("{\"version\": 1, \"workload\""), 0o644))
}

// writeRunDir writes a small run directory the way a run does, through
// the results package: three seconds of one op.
func writeRunDir(t *testing.T, dir, workload string) {
	t.Helper()
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	reg := results.NewRegistry([]string{"transfer"}, false, start)
	files, err := results.CreateRunFiles(dir, reg.Ops(), start.UnixMilli())
	must(t, err)
	rec := reg.NewRecorder()
	for sec := 1; sec <= 3; sec++ {
		for i := range 50 {
			rec.Record(0, time.Duration(i+1)*time.Millisecond, 0, 0, results.ClassNone)
		}
		must(t, files.WriteTick(reg.Tick(start.Add(time.Duration(sec)*time.Second), false)))
	}
	s := reg.Summary(start.Add(3*time.Second), files.Points())
	s.Command, s.Workload, s.AuthMode, s.StopReason = "run", workload, "cert", "duration"
	s.RunID = strings.Repeat(strconv.Itoa(len(dir)%10), 32)
	s.Config = map[string]string{}
	must(t, s.WriteJSON(dir))
	must(t, files.Close())
	must(t, reg.WriteHandshakeLog(dir))
}

// krb5Conf writes a Kerberos profile whose only KDC is addr.
func (fx *badFixture) krb5Conf(t *testing.T, addr string) string {
	t.Helper()
	path := filepath.Join(fx.dir, "krb5.conf")
	conf := "[libdefaults]\n default_realm = EXAMPLE.COM\n dns_lookup_kdc = false\n\n[realms]\n EXAMPLE.COM = {\n  kdc = " + addr + "\n }\n"
	must(t, os.WriteFile(path, []byte(conf), 0o644))
	return path
}

// copyKrb5Conf copies the stack's profile with every KDC moved to addr,
// where nothing listens: to the client, a stopped KDC.
func copyKrb5Conf(t *testing.T, path, addr string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	moved := regexp.MustCompile(`(?m)^(\s*)(kdc|admin_server)\s*=\s*\S+`).ReplaceAllString(string(b), "${1}${2} = "+addr)
	out := filepath.Join(t.TempDir(), "krb5.conf")
	must(t, os.WriteFile(out, []byte(moved), 0o644))
	return out
}

// deadAddr is a loopback address where nothing listens.
type deadAddr struct{ addr, port string }

func freeAddr(t *testing.T) deadAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	return deadAddr{addr: addr, port: port}
}

// cleanEnv is the test's environment without any stack's variables.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "AUTHBENCH_") && !strings.HasPrefix(name, "KRB5") &&
			!strings.HasPrefix(name, "VAULT_") && !strings.HasPrefix(name, "SPIFFE_") {
			out = append(out, kv)
		}
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
