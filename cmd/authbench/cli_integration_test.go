package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/pki"
	"github.com/authbench/authbench/stack/stacktest"
)

// binPath is the authbench binary built once for the CLI tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authbench-bin-")
	if err != nil {
		panic(err)
	}
	binPath = filepath.Join(dir, "authbench")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary with the stack's environment.
type cli struct {
	t   *testing.T
	env []string
}

type outcome struct {
	stdout, stderr string
	code           int
}

func newCLI(t *testing.T, st *stack.State) *cli {
	env := os.Environ()
	for _, e := range st.Env() {
		env = append(env, e.Name+"="+e.Value)
	}
	return &cli{t: t, env: env}
}

// with returns c reporting to t (a subtest must not fail its parent).
func (c *cli) with(t *testing.T) *cli { return &cli{t: t, env: c.env} }

func (c *cli) run(args ...string) outcome {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("running authbench %v: %v", args, err)
	}
	return outcome{stdout.String(), stderr.String(), code}
}

// mustRun fails the test unless the command exits 0.
func (c *cli) mustRun(args ...string) outcome {
	c.t.Helper()
	o := c.run(args...)
	if o.code != 0 {
		c.t.Fatalf("authbench %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), o.code, o.stdout, o.stderr)
	}
	return o
}

// assertOneLineError checks a failure is exactly one clear line on stderr.
func assertOneLineError(t *testing.T, o outcome, wantCode int, wantParts ...string) {
	t.Helper()
	if o.code != wantCode {
		t.Errorf("exit code %d, want %d (stderr %q)", o.code, wantCode, o.stderr)
	}
	lines := strings.Split(strings.TrimSpace(o.stderr), "\n")
	if len(lines) != 1 || lines[0] == "" {
		t.Errorf("want exactly one error line on stderr, got %d:\n%s", len(lines), o.stderr)
	}
	for _, bad := range []string{"panic", "goroutine ", ".go:"} {
		if strings.Contains(o.stderr, bad) {
			t.Errorf("stderr looks like a crash (%q):\n%s", bad, o.stderr)
		}
	}
	for _, p := range wantParts {
		if !strings.Contains(o.stderr, p) {
			t.Errorf("stderr %q does not mention %q", o.stderr, p)
		}
	}
}

// testTxnStyles: a run in the app style prints its shape on its first
// line, with every per-second header and in the summary, with its retries,
// and check bank holds; a matrix of two styles shows them side by side,
// each row with its shape.
func testTxnStyles(c *cli) {
	t := c.t
	dir := filepath.Join(t.TempDir(), "run")
	o := c.mustRun("run", "bank", "--auth", "cert", "--txn-style", "app", "--contention", "hot", "--max-retries", "50", "--duration", "3s", "--out", dir)
	for _, want := range []string{"bank (app, full retries) with --auth cert", "pMax(ms)  app, full retries", "transaction shape: app, full retries", "total number of retries: "} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, o.stdout)
		}
	}
	if s := readSummary(t, dir); s.TxnStyle != "app" || s.RetryProtocol != "full" || s.Op("transfer").Retries == 0 {
		t.Errorf("summary: style %q, protocol %q, transfer %+v; want app, full and retries", s.TxnStyle, s.RetryProtocol, *s.Op("transfer"))
	}
	c.mustRun("check", "bank", "--run", dir)
	mdir := filepath.Join(t.TempDir(), "matrix")
	c.mustRun("matrix", "--init=false", "--workloads", "bank", "--auth", "cert", "--txn-style", "app,single", "--duration", "2s", "--ramp", "0s", "--out", mdir, "--metrics-addr", "")
	md := readFile(t, filepath.Join(mdir, "matrix.md"))
	lines := strings.Split(strings.TrimSpace(md), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], "| bank | cert | app, full retries |") || !strings.HasPrefix(lines[3], "| bank | cert | single, full retries |") {
		t.Errorf("matrix.md:\n%s", md)
	}
	for _, style := range []string{"app", "single"} {
		c.mustRun("check", "bank", "--run", filepath.Join(mdir, "bank-"+style+"-cert"))
	}
}

func TestCLIAgainstStack(t *testing.T) {
	st := stacktest.Start(t)
	c := newCLI(t, st)
	c.mustRun("init", "bank", "--accounts", "200", "--initial-balance", "500")

	for _, auth := range []string{"cert", "password"} {
		t.Run("run-"+auth, func(t *testing.T) {
			c := c.with(t)
			dir := filepath.Join(t.TempDir(), "run")
			o := c.mustRun("run", "bank", "--auth", auth, "--concurrency", "8", "--duration", "3s", "--ramp", "1s", "--out", dir)
			for _, want := range []string{"__total", "__result", "transfer", "number of transactions retried", "connections opened: 8", "average connection time"} {
				if !strings.Contains(o.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, o.stdout)
				}
			}
			s := readSummary(t, dir)
			assertHlogMatches(t, dir, s)
			assertAuthSettings(t, dir, auth, strings.TrimSpace(readFile(t, st.UserPasswordFile("bench_password"))))
			if s.AuthMode != auth || s.Connections.Opened < 8 || s.Server.TLS != "verify-full" {
				t.Errorf("summary: auth %q, connections %d, tls %q", s.AuthMode, s.Connections.Opened, s.Server.TLS)
			}
			c.mustRun("check", "bank", "--run", dir)
		})
	}

	t.Run("hot-contention", func(t *testing.T) {
		c := c.with(t)
		dir := filepath.Join(t.TempDir(), "run")
		c.mustRun("run", "bank", "--auth", "cert", "--concurrency", "16", "--duration", "4s", "--contention", "hot", "--max-retries", "50", "--out", dir)
		s := readSummary(t, dir)
		tr := s.Op("transfer")
		if tr.Retries == 0 || tr.RetriedTxns == 0 {
			t.Errorf("hot contention recorded no retries: %+v", tr)
		}
		c.mustRun("check", "bank", "--run", dir)
		// An independent look with psql, not with our code.
		sum, count := psqlBank(t, st, s.RunID)
		if sum != 200*500 || count != tr.Committed {
			t.Errorf("psql: SUM(balance)=%d (want %d), transfers of this run=%d (summary committed %d)", sum, 200*500, count, tr.Committed)
		}
	})

	t.Run("txn-styles", func(t *testing.T) { testTxnStyles(c.with(t)) })

	t.Run("interrupt-writes-files", func(t *testing.T) {
		c := c.with(t)
		dir := filepath.Join(t.TempDir(), "run")
		o := interruptRun(t, c, dir)
		if o.code == 0 {
			t.Errorf("an interrupted run must exit non-zero")
		}
		s := readSummary(t, dir)
		if !s.Interrupted || s.Op("transfer").Committed == 0 {
			t.Errorf("summary after Ctrl-C: interrupted=%v committed=%d", s.Interrupted, s.Op("transfer").Committed)
		}
		c.mustRun("check", "bank", "--run", dir)
	})

	t.Run("bad-input", func(t *testing.T) {
		c := c.with(t)
		foreign := t.TempDir()
		if _, err := pki.LoadOrCreateCA(foreign, "some other CA"); err != nil {
			t.Fatal(err)
		}
		assertOneLineError(t, c.run("run", "bank", "--duration", "1s", "--ca", filepath.Join(foreign, "ca.crt")), 1, "--ca")
		assertOneLineError(t, c.run("run", "bank", "--duration", "1s", "--cert", "/nonexistent/client.crt", "--key", "/nonexistent/client.key"), 1, "/nonexistent/client.crt")
		assertOneLineError(t, c.run("run", "bank", "--duration", "1s", "--url", "postgresql://bench_cert@localhost:%zz/authbench"), 2, "--url")
		assertOneLineError(t, c.run("run", "bank", "--concurrency", "0"), 2, "--concurrency")
		assertOneLineError(t, c.run("run", "bank", "--duration", "soon"), 2, "--duration")
		assertOneLineError(t, c.run("run", "nosuch"), 2, "unknown workload")
		assertOneLineError(t, c.run("run", "bank", "--auth", "nosuch"), 2, "unknown auth mode")
		assertOneLineError(t, c.run("check", "bank", "--run", t.TempDir()), 1, "summary")
	})
}

func readSummary(t *testing.T, dir string) *results.Summary {
	t.Helper()
	s, err := results.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertHlogMatches reads each op's .hlog with hdrhistogram-go's log reader
// and compares its count with summary.json.
func assertHlogMatches(t *testing.T, dir string, s *results.Summary) {
	t.Helper()
	for _, op := range s.Ops {
		hs, err := results.ReadHlog(filepath.Join(dir, op.Op+results.HlogSuffix))
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, h := range hs {
			n += h.TotalCount()
		}
		if n != op.Count || n == 0 {
			t.Errorf("%s.hlog holds %d values, summary.json counts %d", op.Op, n, op.Count)
		}
	}
}

// interruptRun starts a long run, sends SIGINT after the first per-second
// line and waits for the process to finish writing.
func interruptRun(t *testing.T, c *cli, dir string) outcome {
	t.Helper()
	cmd := exec.Command(binPath, "run", "bank", "--concurrency", "4", "--duration", "60s", "--out", dir)
	cmd.Env = c.env
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var out strings.Builder
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasSuffix(sc.Text(), " transfer") && strings.Contains(sc.Text(), "2.0s") {
			_ = cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("run did not stop within 30s of SIGINT")
	}
	return outcome{out.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// psqlBank asks psql, as the certificate user, for the total balance and
// the number of transfers of one run.
func psqlBank(t *testing.T, st *stack.State, runID string) (sum, count int64) {
	t.Helper()
	crt, key := st.ClientCertFiles("bench_cert")
	dsn := "host=localhost port=" + strconv.Itoa(st.LBPort) + " dbname=" + st.Database + " user=bench_cert sslmode=verify-full sslrootcert=" + st.CAFile + " sslcert=" + crt + " sslkey=" + key
	q := "SELECT (SELECT sum(balance) FROM accounts) || ' ' || (SELECT count(*) FROM transfers WHERE run_id = '" + runID + "')"
	out, err := exec.Command("psql", dsn, "-XAtc", q).CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v: %s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		t.Fatalf("psql printed %q", out)
	}
	sum, _ = strconv.ParseInt(f[0], 10, 64)
	count, _ = strconv.ParseInt(f[1], 10, 64)
	return sum, count
}
