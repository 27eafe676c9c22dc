package all_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/internal/proc"
	"github.com/authbench/authbench/stack"
	_ "github.com/authbench/authbench/stack/all"
	"github.com/authbench/authbench/stack/haproxy"
	"github.com/authbench/authbench/stack/kdc"
	"github.com/authbench/authbench/stack/postgres"
	"github.com/authbench/authbench/stack/prometheus"
	"github.com/authbench/authbench/stack/spiffe"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/stack/vault"
)

// settingsFromFlags enables every registered component the way
// `stack up` does: through its own flags, with --with-<name> for those
// that are off by default.
func settingsFromFlags(t *testing.T) map[string]any {
	t.Helper()
	fs := pflag.NewFlagSet("stack up", pflag.ContinueOnError)
	gets := map[string]func() (any, error){}
	for _, c := range stack.Components() {
		if base(c) || isPart(c) {
			continue
		}
		f, ok := c.(stack.FlagOwner)
		if !ok {
			t.Errorf("component %s has no flags: `stack up` cannot enable it", c.Name())
			continue
		}
		gets[c.Name()] = f.AddFlags(fs)
	}
	for name := range gets {
		if fs.Lookup("with-"+name) != nil {
			if err := fs.Set("with-"+name, "true"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Parts run with a setting of their owner's.
	if err := fs.Set("server-svid", "true"); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for name, get := range gets {
		s, err := get()
		if err != nil || s == nil {
			t.Fatalf("component %s: settings %v, error %v: its flags do not enable it", name, s, err)
		}
		out[name] = s
	}
	return out
}

// base reports whether every stack has c (the PKI, PostgreSQL, HAProxy):
// it needs no flag, and its variables in `stack env` are the core's, from
// State's fields.
func base(c stack.Component) bool { return c.Enabled(&stack.State{}) }

// isPart reports a component another's settings enable (stack.Part).
func isPart(c stack.Component) bool {
	_, ok := c.(stack.Part)
	return ok
}

// TestEveryComponent brings up a stack with every registered component,
// checks that each reports its processes and its environment, and that
// Down leaves no process of the stack running.
func TestEveryComponent(t *testing.T) {
	if len(stack.Components()) < 7 {
		t.Fatalf("%d components registered, want pki, postgres, haproxy, kerberos, spiffe, vault and prometheus at least", len(stack.Components()))
	}
	settings := settingsFromFlags(t)
	st := stacktest.Start(t, func(c *stack.Config) {
		for name, s := range settings {
			c.Enable(name, s)
		}
	})
	var pids []int
	names := map[string]string{}
	for _, c := range stack.Components() {
		if !c.Enabled(st) {
			t.Errorf("component %s is not enabled after Up", c.Name())
			continue
		}
		status := c.Status(st)
		if len(status) == 0 && c.Name() != "pki" { // the PKI runs no process
			t.Errorf("component %s reports no status line", c.Name())
		}
		for _, s := range status {
			if !s.Running || s.PID <= 0 || s.Address == "" || !proc.Alive(s.PID) {
				t.Errorf("component %s: status %v, want a running process with its address", c.Name(), s)
			}
			pids = append(pids, s.PID)
		}
		env := c.Env(st)
		if len(env) == 0 && !base(c) && !isPart(c) {
			t.Errorf("component %s exports no variable", c.Name())
		}
		for _, e := range env {
			if e.Value == "" {
				t.Errorf("component %s exports %s empty", c.Name(), e.Name)
			}
			if other, dup := names[e.Name]; dup {
				t.Errorf("%s is exported by both %s and %s", e.Name, other, c.Name())
			}
			names[e.Name] = c.Name()
		}
	}
	seen := map[string]bool{}
	for _, e := range st.Env() {
		if e.Value == "" || seen[e.Name] {
			t.Errorf("stack env exports %s empty or twice", e.Name)
		}
		seen[e.Name] = true
	}
	status, err := stack.Status(st.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(status) < 2 || status[0].Name != "postgres" || status[1].Name != "haproxy" {
		t.Errorf("stack status %v, want postgres then haproxy first", status)
	}
	var down bytes.Buffer
	if err := stack.Down(st.Dir, &down); err != nil {
		t.Fatalf("down: %v", err)
	}
	// What connects to the database stops before the load balancer, and
	// the load balancer before the database.
	order := []string{"prometheus:", "vault:", "kdc:", "haproxy:", "postgres:"}
	for i := 1; i < len(order); i++ {
		if a, b := strings.Index(down.String(), order[i-1]), strings.Index(down.String(), order[i]); a < 0 || b < a {
			t.Errorf("down log:\n%s\nwant %s stopping before %s", down.String(), order[i-1], order[i])
		}
	}
	for _, c := range stack.Components() {
		for _, s := range c.Status(st) {
			if s.Running {
				t.Errorf("component %s still running after Down: %v", c.Name(), s)
			}
		}
	}
	for _, pid := range pids {
		if proc.Alive(pid) {
			t.Errorf("pid %d still alive after Down", pid)
		}
	}
	if left := processesIn(st.Dir); len(left) > 0 {
		t.Errorf("processes still naming %s after Down: %v", st.Dir, left)
	}
}

// processesIn returns the live processes whose command line names dir.
func processesIn(dir string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !proc.Alive(pid) {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && (bytes.Contains(cmdline, []byte(dir+"/")) || bytes.HasSuffix(cmdline, []byte(dir+"\x00"))) {
			out = append(out, e.Name()+" "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
	}
	return out
}

// oldState is a state.json as versions before the component packages
// wrote it: each component's state is a top-level key.
const oldState = `{
  "dir": "/s", "lb_host": "localhost", "lb_port": 5000, "lb_ipv6": true, "stats_port": 5001, "pg_port": 5002, "database": "authbench",
  "ca_file": "/s/certs/ca.crt", "client_ca_file": "/s/certs/client-ca-bundle.crt", "certs_dir": "/s/certs", "secrets_dir": "/s/secrets",
  "admin_user": "authbench_admin", "pg_data_dir": "/s/pg/data", "pg_log_file": "/s/pg/postgres.log",
  "haproxy_config": "/s/haproxy/haproxy.cfg", "haproxy_socket": "/s/haproxy/admin.sock",
  "users": [{"name": "bench_gss", "method": "gss"}],
  "kerberos": {"kdc_dir": "/s/kdc", "krb5_conf": "/s/kdc/krb5.conf", "realm": "R.TEST", "keytab_dir": "/s/krb5", "server_keytab": "/s/krb5/server.keytab"},
  "spiffe": {"trust_domain": "t.test", "svid_ttl": 60000000000, "socket_path": "/s/spiffe/agent.sock", "user": "bench_spiffe"},
  "vault": {"server": "builtin", "port": 8200, "addr": "http://127.0.0.1:8200", "settings": {"default_ttl": 60000000000, "max_ttl": 600000000000, "static_rotation": 60000000000}},
  "prometheus": {"port": 9090, "targets": ["127.0.0.1:2112"], "scrape_interval": 2000000000}
}`

// TestOldStateLoads reads an old state.json into the components' sections
// and writes them back under the same keys.
func TestOldStateLoads(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(oldState), 0o644); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		st, err := stack.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if k := kdc.Of(st); k == nil || k.Realm != "R.TEST" || k.ClientKeytab("bench_gss") != "/s/krb5/client.bench_gss.keytab" {
			t.Errorf("round %d: kerberos section %+v", round, k)
		}
		if s := spiffe.Of(st); s == nil || s.TrustDomain != "t.test" || s.TTL != time.Minute {
			t.Errorf("round %d: spiffe section %+v", round, s)
		}
		if v := vault.Of(st); v == nil || v.Port != 8200 || v.Settings.MaxTTL != 10*time.Minute {
			t.Errorf("round %d: vault section %+v", round, v)
		}
		if p := prometheus.Of(st); p == nil || p.URL() != "http://127.0.0.1:9090" {
			t.Errorf("round %d: prometheus section %+v", round, p)
		}
		if st.LBPort != 5000 || !st.LBIPv6 || st.PGPort != 5002 || st.CAFile != "/s/certs/ca.crt" || st.CertsDir != "/s/certs" || st.AdminUser != stack.AdminUser {
			t.Errorf("round %d: core fields %+v", round, st)
		}
		if p := postgres.Of(st); p == nil || p.DataDir != "/s/pg/data" || p.LogFile != "/s/pg/postgres.log" || p.ClientCAFile != "/s/certs/client-ca-bundle.crt" {
			t.Errorf("round %d: postgres section %+v", round, p)
		}
		if h := haproxy.Of(st); h == nil || h.StatsURL() != "http://127.0.0.1:5001/stats" || h.Config != "/s/haproxy/haproxy.cfg" || h.Socket != "/s/haproxy/admin.sock" {
			t.Errorf("round %d: haproxy section %+v", round, h)
		}
		st.Dir = dir
		if err := st.Save(); err != nil {
			t.Fatal(err)
		}
	}
}
