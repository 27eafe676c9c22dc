package spiffe_test

import (
	"context"
	"crypto/tls"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/authbench/authbench/internal/proc"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/spiffe"
	"github.com/authbench/authbench/stack/stacktest"
)

func TestSPIFFE(t *testing.T) {
	cfg := &spiffe.Settings{TTL: 20 * time.Second, TrustDomain: "bench.test"}
	st := stacktest.Start(t, func(c *stack.Config) { spiffe.Enable(c, *cfg) })
	sp := spiffe.Of(st)
	if sp == nil || sp.User != spiffe.User || sp.SPIFFEID != "spiffe://bench.test/authbench/bench_spiffe" || sp.UID != os.Getuid() {
		t.Fatalf("SPIFFE state %+v", sp)
	}
	t.Run("env and status", func(t *testing.T) { testSPIFFEEnv(t, st) })
	t.Run("svid logs in as its CN", func(t *testing.T) { testSVIDLogin(t, st) })
	t.Run("SIGUSR1 rotates", func(t *testing.T) { testSignalRotates(t, st) })
	t.Run("EnsureUser keeps the bundle", func(t *testing.T) {
		if err := st.EnsureUser(context.Background(), stack.User{Name: "bench_late_spiffe", Method: stack.MethodCert}); err != nil {
			t.Fatal(err)
		}
		testSVIDLogin(t, st)
	})
	t.Run("restart keeps the CA", func(t *testing.T) { testIssuerRestart(t, st, cfg) })
	t.Run("up without SPIFFE keeps it", func(t *testing.T) {
		if _, err := stack.Up(context.Background(), stack.Config{Dir: st.Dir}, nil); err != nil {
			t.Fatal(err)
		}
		if s := spiffeStatus(t, st); !s.Running {
			t.Errorf("spiffe after Up without SPIFFE config: %v", s)
		}
	})
	t.Run("changed ttl restarts the issuer", func(t *testing.T) {
		before := spiffeStatus(t, st).PID
		up := stack.Config{Dir: st.Dir}
		spiffe.Enable(&up, spiffe.Settings{TTL: 30 * time.Second, TrustDomain: "bench.test"})
		again, err := stack.Up(context.Background(), up, nil)
		if err != nil {
			t.Fatal(err)
		}
		if after := spiffeStatus(t, st); !after.Running || after.PID == before || spiffe.Of(again).TTL != 30*time.Second {
			t.Errorf("after a TTL change: pid %d -> %v, ttl %s", before, after, spiffe.Of(again).TTL)
		}
		testSVIDLogin(t, st)
	})
	t.Run("down stops the issuer", func(t *testing.T) {
		pid := spiffeStatus(t, st).PID
		if err := stack.Down(st.Dir, nil); err != nil {
			t.Fatal(err)
		}
		if proc.Alive(pid) {
			t.Errorf("issuer pid %d survived Down", pid)
		}
		if _, err := os.Stat(sp.SocketPath); !os.IsNotExist(err) {
			t.Errorf("socket left behind: %v", err)
		}
	})
}

func testSPIFFEEnv(t *testing.T, st *stack.State) {
	env := map[string]string{}
	for _, e := range st.Env() {
		env[e.Name] = e.Value
	}
	if env["SPIFFE_ENDPOINT_SOCKET"] != "unix://"+spiffe.Of(st).SocketPath || env["AUTHBENCH_SPIFFE_USER"] != "bench_spiffe" {
		t.Errorf("env: SPIFFE_ENDPOINT_SOCKET=%q AUTHBENCH_SPIFFE_USER=%q", env["SPIFFE_ENDPOINT_SOCKET"], env["AUTHBENCH_SPIFFE_USER"])
	}
	if s := spiffeStatus(t, st); !s.Running || s.Address != spiffe.Of(st).Endpoint() {
		t.Errorf("status %v", s)
	}
	if !slices.ContainsFunc(st.Users, func(u stack.User) bool { return u.Name == "bench_spiffe" && u.Method == stack.MethodCert }) {
		t.Errorf("users %v lack bench_spiffe (cert)", st.Users)
	}
}

// spiffeStatus returns the spiffe line of `stack status`.
func spiffeStatus(t *testing.T, st *stack.State) stack.ComponentStatus {
	t.Helper()
	comps, err := stack.Status(st.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range comps {
		if c.Name == "spiffe" {
			return c
		}
	}
	t.Fatalf("no spiffe in status %v", comps)
	return stack.ComponentStatus{}
}

// fetchSVID asks the stack's Workload API for this process's SVID with
// go-spiffe's own client and verifies it against the bundle file that
// PostgreSQL trusts.
func fetchSVID(t *testing.T, st *stack.State) *x509svid.SVID {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	svid, err := workloadapi.FetchX509SVID(ctx, workloadapi.WithAddr(spiffe.Of(st).Endpoint()))
	if err != nil {
		t.Fatal(err)
	}
	td := spiffeid.RequireTrustDomainFromString(spiffe.Of(st).TrustDomain)
	b, err := x509bundle.Load(td, spiffe.Of(st).BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := x509svid.Verify(svid.Certificates, b); err != nil {
		t.Fatalf("SVID does not verify against %s: %v", spiffe.Of(st).BundleFile, err)
	}
	if cn := svid.Certificates[0].Subject.CommonName; svid.ID.String() != spiffe.Of(st).SPIFFEID || cn != "bench_spiffe" {
		t.Fatalf("SVID %s with CN %q", svid.ID, cn)
	}
	return svid
}

// testSVIDLogin logs in through HAProxy with the SVID as client
// certificate and checks the user and the serial PostgreSQL saw.
func testSVIDLogin(t *testing.T, st *stack.State) {
	svid := fetchSVID(t, st)
	cfg, err := pgx.ParseConfig(stacktest.LBConnString(st, "bench_spiffe"))
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{PrivateKey: svid.PrivateKey, Leaf: svid.Certificates[0]}
	for _, c := range svid.Certificates {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	cfg.TLSConfig.Certificates = []tls.Certificate{cert}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect with the SVID: %v", err)
	}
	defer conn.Close(context.Background())
	stacktest.AssertSession(t, conn, "bench_spiffe")
	if got := stacktest.QueryString(t, conn, "SELECT client_serial::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"); got != svid.Certificates[0].SerialNumber.String() {
		t.Errorf("pg_stat_ssl.client_serial %s, want the SVID's %s", got, svid.Certificates[0].SerialNumber)
	}
}

// issuerLogTimeout bounds how long the issuer's log line may trail the SVID
// it pushed; generous, since a busy machine may be slow to write it.
const issuerLogTimeout = 60 * time.Second

// testSignalRotates checks that SIGUSR1 makes the issuer push a new SVID.
func testSignalRotates(t *testing.T, st *stack.State) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	src, err := workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(spiffe.Of(st).Endpoint())))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	before, _ := src.GetX509SVID()
	if err := st.SignalBuiltin("spiffe", syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if err := src.WaitUntilUpdated(ctx); err != nil {
		t.Fatalf("no new SVID after SIGUSR1: %v", err)
	}
	after, _ := src.GetX509SVID()
	if after.Certificates[0].SerialNumber.Cmp(before.Certificates[0].SerialNumber) == 0 {
		t.Error("SIGUSR1 pushed the same SVID")
	}
	// The issuer logs after it pushed, so the line may trail the update.
	for deadline := time.Now().Add(issuerLogTimeout); ; time.Sleep(20 * time.Millisecond) {
		data, _ := os.ReadFile(st.Dir + "/spiffe/spiffe.log")
		if strings.Contains(string(data), "rotated the SVIDs on SIGUSR1") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("issuer log lacks the forced rotation after %s:\n%s", issuerLogTimeout, data)
		}
	}
}

// testIssuerRestart stops the issuer and starts it again with Up: the
// bundle must stay the same, so PostgreSQL keeps trusting new SVIDs.
func testIssuerRestart(t *testing.T, st *stack.State, cfg *spiffe.Settings) {
	bundle, err := os.ReadFile(spiffe.Of(st).BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.StopBuiltin("spiffe"); err != nil {
		t.Fatal(err)
	}
	if s := spiffeStatus(t, st); s.Running {
		t.Fatalf("issuer still running after StopBuiltin: %v", s)
	}
	up := stack.Config{Dir: st.Dir}
	spiffe.Enable(&up, *cfg)
	if _, err := stack.Up(context.Background(), up, nil); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(spiffe.Of(st).BundleFile)
	if string(again) != string(bundle) {
		t.Error("the trust bundle changed across an issuer restart")
	}
	testSVIDLogin(t, st)
}
