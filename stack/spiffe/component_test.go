package spiffe_test

import (
	"context"
	"crypto/tls"
	"io"
	"os"
	"slices"
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
	"github.com/authbench/authbench/stack/spiffe/spire"
	"github.com/authbench/authbench/stack/stacktest"
)

// TestSPIFFE runs the stack with a real SPIRE server and agent. Its SVIDs
// live 10 minutes, so that no scheduled renewal (after about 5 minutes)
// can pass for the forced one.
func TestSPIFFE(t *testing.T) {
	stacktest.RequireSPIRE(t)
	cfg := spiffe.Settings{TTL: 10 * time.Minute, TrustDomain: "bench.test"}
	st := stacktest.Start(t, func(c *stack.Config) { spiffe.Enable(c, cfg) })
	sp := spiffe.Of(st)
	if sp == nil || sp.User != spiffe.User || sp.SPIFFEID != "spiffe://bench.test/authbench/bench_spiffe" || sp.UID != os.Getuid() {
		t.Fatalf("SPIFFE state %+v", sp)
	}
	t.Run("env and status", func(t *testing.T) { testSPIFFEEnv(t, st) })
	t.Run("svid logs in as its CN", func(t *testing.T) { testSVIDLogin(t, st) })
	t.Run("forced rotation is a new SVID", func(t *testing.T) { testForcedRotation(t, st) })
	t.Run("EnsureUser keeps the bundle", func(t *testing.T) {
		if err := st.EnsureUser(context.Background(), stack.User{Name: "bench_late_spiffe", Method: stack.MethodCert}); err != nil {
			t.Fatal(err)
		}
		testSVIDLogin(t, st)
	})
	t.Run("restart keeps the CA", func(t *testing.T) { testRestart(t, st, cfg) })
	t.Run("up without SPIFFE keeps it", func(t *testing.T) {
		if _, err := stack.Up(context.Background(), stack.Config{Dir: st.Dir}, nil); err != nil {
			t.Fatal(err)
		}
		if s := stacktest.Status(t, st, spire.AgentProc); !s.Running {
			t.Errorf("spire-agent after Up without SPIFFE config: %v", s)
		}
	})
	t.Run("changed ttl restarts the server", func(t *testing.T) {
		before := stacktest.Status(t, st, spire.ServerProc).PID
		up := stack.Config{Dir: st.Dir}
		spiffe.Enable(&up, spiffe.Settings{TTL: spiffe.MinTTL, TrustDomain: "bench.test"})
		again, err := stack.Up(context.Background(), up, nil)
		if err != nil {
			t.Fatal(err)
		}
		if after := stacktest.Status(t, st, spire.ServerProc); !after.Running || after.PID == before || spiffe.Of(again).TTL != spiffe.MinTTL {
			t.Errorf("after a TTL change: pid %d -> %v, ttl %s", before, after, spiffe.Of(again).TTL)
		}
		waitLifetime(t, st, spiffe.MinTTL)
		testSVIDLogin(t, st)
	})
	t.Run("down stops SPIRE", func(t *testing.T) {
		pids := []int{stacktest.Status(t, st, spire.ServerProc).PID, stacktest.Status(t, st, spire.AgentProc).PID, stacktest.Status(t, st, "spiffe-watch").PID}
		if err := stack.Down(st.Dir, nil); err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			if proc.Alive(pid) {
				t.Errorf("pid %d survived Down", pid)
			}
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
	server, agent := stacktest.Status(t, st, spire.ServerProc), stacktest.Status(t, st, spire.AgentProc)
	if !server.Running || server.PID == 0 || proc.Comm(server.PID) != spire.ServerProc {
		t.Errorf("status %v: want spire-server running with its pid", server)
	}
	if !agent.Running || agent.PID == 0 || agent.Address != spiffe.Of(st).Endpoint() || proc.Comm(agent.PID) != spire.AgentProc {
		t.Errorf("status %v: want spire-agent running with its pid on %s", agent, spiffe.Of(st).Endpoint())
	}
	if !slices.ContainsFunc(st.Users, func(u stack.User) bool { return u.Name == "bench_spiffe" && u.Method == stack.MethodCert }) {
		t.Errorf("users %v lack bench_spiffe (cert)", st.Users)
	}
}

// fetchSVID asks the stack's Workload API for this process's SVID with
// go-spiffe's own client and verifies it against the bundle file that
// PostgreSQL trusts.
func fetchSVID(t *testing.T, st *stack.State) *x509svid.SVID {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
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

// testForcedRotation checks that the stack's rotation (an entry update)
// makes the agent push a new SVID.
func testForcedRotation(t *testing.T, st *stack.State) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src, err := workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(spiffe.Of(st).Endpoint())))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	before, _ := src.GetX509SVID()
	detail, err := st.ForceRotation(ctx, "spiffe", spiffe.User)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(detail)
	if err := src.WaitUntilUpdated(ctx); err != nil {
		t.Fatalf("no new SVID after the forced rotation: %v", err)
	}
	after, _ := src.GetX509SVID()
	if after.Certificates[0].SerialNumber.Cmp(before.Certificates[0].SerialNumber) == 0 {
		t.Error("the forced rotation pushed the same SVID")
	}
	if _, err := st.ForceRotation(ctx, "spiffe", "bench_other"); err == nil {
		t.Error("a rotation for a user SPIRE does not register succeeded")
	}
}

// testRestart stops the agent and the server and starts them again with
// Up: the bundle must stay the same, so PostgreSQL keeps trusting new
// SVIDs.
func testRestart(t *testing.T, st *stack.State, cfg spiffe.Settings) {
	bundle, err := os.ReadFile(spiffe.Of(st).BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := spiffe.Of(st).SPIRE()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{spire.AgentProc, spire.ServerProc} {
		if err := c.Stop(p, io.Discard); err != nil {
			t.Fatal(err)
		}
		if s := stacktest.Status(t, st, p); s.Running {
			t.Fatalf("%s still running after Stop: %v", p, s)
		}
	}
	up := stack.Config{Dir: st.Dir}
	spiffe.Enable(&up, cfg)
	if _, err := stack.Up(context.Background(), up, nil); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(spiffe.Of(st).BundleFile)
	if string(again) != string(bundle) {
		t.Error("the trust bundle changed across a SPIRE restart")
	}
	testSVIDLogin(t, st)
}

// waitLifetime waits until the agent serves an SVID whose lifetime is ttl
// plus SPIRE's 10 s backdating.
func waitLifetime(t *testing.T, st *stack.State, ttl time.Duration) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		svid := fetchSVID(t, st)
		leaf := svid.Certificates[0]
		if leaf.NotAfter.Sub(leaf.NotBefore) == ttl+10*time.Second {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SVID still lives %s after the TTL became %s", leaf.NotAfter.Sub(leaf.NotBefore), ttl)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
