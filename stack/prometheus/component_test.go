package prometheus_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/prometheus"
	"github.com/authbench/authbench/stack/stacktest"
)

// promtool returns the path of promtool, skipping a -short run without it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if testing.Short() {
			t.Skip("promtool not installed (make deps installs Debian's prometheus)")
		}
		t.Fatal(`promtool not found: run "make deps" or apt-get install prometheus`)
	}
	return p
}

func checkConfig(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command(promtool(t), "check", "config", path).CombinedOutput()
	if err != nil {
		t.Errorf("promtool check config %s: %v\n%s", path, err, out)
	}
}

// TestDashboardsPrometheusConfig checks the configuration users copy.
func TestDashboardsPrometheusConfig(t *testing.T) {
	path := filepath.Join("..", "..", "dashboards", "prometheus.yml")
	checkConfig(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"job_name: " + prometheus.PrometheusJob, prometheus.DefaultMetricsAddr} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
}

// fakeDriver serves a run's /metrics the way `authbench run` does.
func fakeDriver(t *testing.T, workload string) string {
	t.Helper()
	reg := results.NewRegistry([]string{"op"}, false, time.Now())
	preg := promclient.NewRegistry()
	preg.MustRegister(results.NewCollector(reg, results.CollectorOpts{Workload: workload, AuthMode: "cert", Workers: 1}))
	srv := httptest.NewServer(promhttp.HandlerFor(preg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestPrometheus(t *testing.T) {
	first, second := fakeDriver(t, "one"), fakeDriver(t, "two")
	cfg := func(targets []string, iv time.Duration) func(*stack.Config) {
		return func(c *stack.Config) { prometheus.Enable(c, prometheus.Settings{Targets: targets, ScrapeInterval: iv}) }
	}
	st := stacktest.Start(t, cfg([]string{first}, time.Second))
	p := prometheus.Of(st)
	if p == nil || !strings.HasPrefix(p.DataDir, st.Dir) {
		t.Fatalf("prometheus state %+v, want its data in %s", p, st.Dir)
	}
	checkConfig(t, p.ConfigFile)
	assertPrometheusStatus(t, st)
	waitSeries(t, p.URL(), `authbench_workers{workload="one",job="authbench",instance="`+first+`"}`)

	pid := prometheusPID(t, st.Dir)
	up := stack.Config{Dir: st.Dir}
	prometheus.Enable(&up, prometheus.Settings{Targets: []string{second}, ScrapeInterval: 2 * time.Second})
	st2, err := stack.Up(context.Background(), up, nil)
	if err != nil {
		t.Fatalf("second up: %v", err)
	}
	if got := prometheusPID(t, st.Dir); got != pid || prometheus.Of(st2).Port != p.Port {
		t.Errorf("second up restarted prometheus: pid %d → %d, port %d → %d", pid, got, p.Port, prometheus.Of(st2).Port)
	}
	waitSeries(t, p.URL(), `authbench_workers{workload="two",instance="`+second+`"}`)
	waitConfig(t, p.URL(), "scrape_interval: 2s")

	bad := stack.Config{Dir: st.Dir}
	prometheus.Enable(&bad, prometheus.Settings{ScrapeInterval: time.Minute})
	_, err = stack.Up(context.Background(), bad, nil)
	if err == nil || !strings.Contains(err.Error(), "scrape interval") {
		t.Errorf("a 1m scrape interval: error %v, want one about the scrape interval", err)
	}
	if err := stack.Down(st.Dir, nil); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(p.URL() + "/-/ready"); err == nil {
		resp.Body.Close()
		t.Errorf("prometheus (pid %d) still answers after down", pid)
	}
}

func assertPrometheusStatus(t *testing.T, st *stack.State) {
	t.Helper()
	comps, found := mustStatus(t, st.Dir), false
	for _, c := range comps {
		found = found || (c.Name == "prometheus" && c.Running && c.Address == strings.TrimPrefix(prometheus.Of(st).URL(), "http://"))
	}
	if !found {
		t.Errorf("stack status lacks a running prometheus: %v", comps)
	}
	for _, e := range st.Env() {
		if e.Name == "AUTHBENCH_PROMETHEUS_URL" && e.Value == prometheus.Of(st).URL() {
			return
		}
	}
	t.Errorf("stack env lacks AUTHBENCH_PROMETHEUS_URL=%s", prometheus.Of(st).URL())
}

func prometheusPID(t *testing.T, dir string) int {
	t.Helper()
	for _, c := range mustStatus(t, dir) {
		if c.Name == "prometheus" {
			return c.PID
		}
	}
	t.Fatal("no prometheus in stack status")
	return 0
}

func mustStatus(t *testing.T, dir string) []stack.ComponentStatus {
	t.Helper()
	comps, err := stack.Status(dir)
	if err != nil {
		t.Fatal(err)
	}
	return comps
}

// promWait bounds how long the tests wait for Prometheus to scrape or to
// load a configuration; generous, since CI machines can be slow and busy.
const promWait = 60 * time.Second

// waitSeries waits until an instant query returns at least one series.
func waitSeries(t *testing.T, base, query string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(promWait); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		last = stacktest.GetJSON(base+"/api/v1/query?query="+url.QueryEscape(query), &r)
		if last == "" && r.Status == "success" && len(r.Data.Result) > 0 {
			return
		}
	}
	t.Fatalf("prometheus at %s returned no series for %s in %s (%s)", base, query, promWait, last)
}

// waitConfig waits until Prometheus's loaded configuration contains want.
func waitConfig(t *testing.T, base, want string) {
	t.Helper()
	var r struct {
		Data struct {
			YAML string `json:"yaml"`
		} `json:"data"`
	}
	for deadline := time.Now().Add(promWait); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if stacktest.GetJSON(base+"/api/v1/status/config", &r) == "" && strings.Contains(r.Data.YAML, want) {
			return
		}
	}
	t.Errorf("prometheus did not load a configuration with %q within %s:\n%s", want, promWait, r.Data.YAML)
}
