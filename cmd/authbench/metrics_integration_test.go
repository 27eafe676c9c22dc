package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/faults"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/pki"
	"github.com/authbench/authbench/stack/prometheus"
	"github.com/authbench/authbench/stack/stacktest"
)

// dashboardsDir holds the Grafana dashboards and provisioning files.
const dashboardsDir = "../../dashboards"

// dashDatasource is the only datasource a dashboard may reference.
const dashDatasource = "${datasource}"

// grafanaDashboard is the part of a dashboard's JSON the tests read.
type grafanaDashboard struct {
	UID        string      `json:"uid"`
	Title      string      `json:"title"`
	Panels     []dashPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

// dashPanel is a panel, or a row holding panels.
type dashPanel struct {
	ID      int         `json:"id"`
	Type    string      `json:"type"`
	Title   string      `json:"title"`
	Panels  []dashPanel `json:"panels"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
}

// dashQuery is one PromQL expression of a dashboard and where it is.
type dashQuery struct{ where, expr string }

// loadDashboards reads every dashboard, failing on invalid JSON.
func loadDashboards(t *testing.T) map[string]grafanaDashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in %s (%v)", dashboardsDir, err)
	}
	out := map[string]grafanaDashboard{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d grafanaDashboard
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s is not valid JSON: %v", f, err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}

// flatPanels returns the panels with the panels of collapsed rows.
func flatPanels(ps []dashPanel) []dashPanel {
	var out []dashPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatPanels(p.Panels)...)
	}
	return out
}

// dashQueries returns every panel's and annotation's PromQL expression.
func dashQueries(file string, d grafanaDashboard) []dashQuery {
	var qs []dashQuery
	for _, p := range flatPanels(d.Panels) {
		for _, tg := range p.Targets {
			qs = append(qs, dashQuery{fmt.Sprintf("%s: panel %d %q target %s", file, p.ID, p.Title, tg.RefID), tg.Expr})
		}
	}
	for _, a := range d.Annotations.List {
		qs = append(qs, dashQuery{fmt.Sprintf("%s: annotation %q", file, a.Name), a.Expr})
	}
	return qs
}

func TestDashboardFiles(t *testing.T) {
	boards := loadDashboards(t)
	for _, want := range []string{"overview.json", "auth-modes.json", "rotation.json"} {
		if _, ok := boards[want]; !ok {
			t.Errorf("dashboards/%s is missing", want)
		}
	}
	uids := map[string]string{}
	for file, d := range boards {
		if prev, dup := uids[d.UID]; dup || d.UID == "" || d.Title == "" {
			t.Errorf("%s: uid %q (also in %q), title %q: want a unique uid and a title", file, d.UID, prev, d.Title)
		}
		uids[d.UID] = file
		checkPanels(t, file, d)
		checkVariables(t, file, d)
		checkDatasources(t, file)
	}
	checkProvisioning(t)
}

// checkPanels wants unique panel ids and a query in every data panel.
func checkPanels(t *testing.T, file string, d grafanaDashboard) {
	t.Helper()
	ids := map[int]string{}
	for _, p := range flatPanels(d.Panels) {
		if prev, dup := ids[p.ID]; dup || p.ID == 0 {
			t.Errorf("%s: panel %q has id %d (also %q): ids must be unique and not 0", file, p.Title, p.ID, prev)
		}
		ids[p.ID] = p.Title
		if p.Type != "row" && p.Type != "text" && len(p.Targets) == 0 {
			t.Errorf("%s: panel %d %q has no query", file, p.ID, p.Title)
		}
	}
	for _, q := range dashQueries(file, d) {
		if e := substituteVars(q.expr); strings.TrimSpace(q.expr) == "" || strings.Contains(e, "$") {
			t.Errorf("%s: query %q is empty or uses an unknown variable", q.where, q.expr)
		}
	}
}

// checkVariables wants the datasource, workload and auth_mode variables.
func checkVariables(t *testing.T, file string, d grafanaDashboard) {
	t.Helper()
	want := map[string]string{"datasource": "datasource", "workload": "query", "auth_mode": "query"}
	for _, v := range d.Templating.List {
		if want[v.Name] == v.Type {
			delete(want, v.Name)
		}
		if v.Type == "datasource" && v.Query != "prometheus" {
			t.Errorf("%s: datasource variable %q selects %v, want prometheus", file, v.Name, v.Query)
		}
	}
	for name, typ := range want {
		t.Errorf("%s: no %s variable %q", file, typ, name)
	}
}

// checkDatasources wants every "datasource" in the file, at any depth, to
// be the datasource variable.
func checkDatasources(t *testing.T, file string) {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(dashboardsDir, file))
	var doc any
	_ = json.Unmarshal(data, &doc)
	n := 0
	walkJSON(doc, "", func(path string, v any) {
		n++
		ok := v == dashDatasource
		if m, isMap := v.(map[string]any); isMap {
			ok = m["uid"] == dashDatasource && (m["type"] == nil || m["type"] == "prometheus")
		}
		if !ok {
			t.Errorf("%s: %s is %v, want the datasource variable %s", file, path, v, dashDatasource)
		}
	})
	if n == 0 {
		t.Errorf("%s references no datasource", file)
	}
}

// walkJSON calls fn for the value of every "datasource" key.
func walkJSON(v any, path string, fn func(path string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "datasource" {
				fn(path+"."+k, e)
				continue
			}
			walkJSON(e, path+"."+k, fn)
		}
	case []any:
		for i, e := range x {
			walkJSON(e, path+"["+strconv.Itoa(i)+"]", fn)
		}
	}
}

// checkProvisioning wants a Prometheus datasource and a file provider.
func checkProvisioning(t *testing.T) {
	t.Helper()
	for _, c := range []struct{ glob, want string }{
		{"provisioning/datasources/*.yml", "type: prometheus"},
		{"provisioning/dashboards/*.yml", "type: file"},
	} {
		files, _ := filepath.Glob(filepath.Join(dashboardsDir, c.glob))
		if len(files) == 0 {
			t.Errorf("no dashboards/%s", c.glob)
		}
		for _, f := range files {
			data, _ := os.ReadFile(f)
			if !strings.Contains(string(data), "apiVersion: 1") || !strings.Contains(string(data), c.want) {
				t.Errorf("%s lacks apiVersion: 1 or %q", f, c.want)
			}
		}
	}
}

func TestServeMetrics(t *testing.T) {
	reg := results.NewRegistry([]string{"transfer"}, false, time.Now())
	cfg := &driver.Config{Concurrency: 3}
	var out bytes.Buffer
	stop, err := serveMetrics("127.0.0.1:0", reg, "bank", "cert", cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(out.String())
	u, ok := strings.CutPrefix(line, "metrics: ")
	if !ok || strings.Contains(line, "\n") || !strings.HasSuffix(u, "/metrics") {
		t.Fatalf("printed %q, want one line metrics: http://ADDR/metrics", out.String())
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `authbench_workers{auth_mode="cert",workload="bank"} 3`) {
		t.Errorf("/metrics lacks the workers gauge:\n%s", body)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(u, "http://"), "/metrics")
	out.Reset()
	stop2, err := serveMetrics(addr, reg, "bank", "cert", cfg, &out)
	if err != nil || strings.Count(out.String(), "\n") != 1 || !strings.Contains(out.String(), "warning") {
		t.Errorf("busy address: err %v, printed %q, want one warning line", err, out.String())
	}
	stop2()
	stop()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still listens after stop", addr)
	}
	out.Reset()
	stop3, err := serveMetrics("", reg, "bank", "cert", cfg, &out)
	if err != nil || out.Len() > 0 {
		t.Errorf(`--metrics-addr "": err %v, printed %q, want nothing`, err, out.String())
	}
	stop3()
}

// dashVars are the values the tests give the dashboards' variables: the
// run's workload and auth mode, and Grafana's $__rate_interval for the
// stack's 2 s scrape interval (at least 4 scrape intervals).
var dashVars = strings.NewReplacer(
	"${workload}", "bank", "$workload", "bank",
	"${auth_mode}", "cert", "$auth_mode", "cert",
	"${__rate_interval}", "10s", "$__rate_interval", "10s",
	"${__interval}", "2s", "$__interval", "2s",
)

func substituteVars(expr string) string { return dashVars.Replace(expr) }

// Through the dashboards' run, a proxy drops the reply of every
// dashCommitEvery-th COMMIT, dashCommitDrops times. The run does not retry
// (--max-retries 0), so each drop is a transaction that failed after a
// COMMIT of unknown outcome, an ambiguous commit, and, after the clean
// seconds between drops (at most 200 COMMITs a second), a fault event:
// their annotations have something to mark.
const (
	dashCommitEvery = 1000
	dashCommitDrops = 3
)

// TestDashboardsAgainstPrometheus runs the bank scraped by the stack's
// Prometheus, through a proxy that drops a few COMMIT replies, and rotates
// the client certificate once Prometheus has the run's ops; it ends the
// run once every dashboard query returns data (the rotation, fault and
// ambiguous-commit annotations only do once those have been scraped), and
// fails on the queries that never do.
func TestDashboardsAgainstPrometheus(t *testing.T) {
	st := stacktest.Start(t, func(c *stack.Config) {
		// Nothing to scrape until the run says where it serves /metrics.
		prometheus.Enable(c, prometheus.Settings{Targets: []string{refusedAddr(t)}})
	})
	c := newCLI(t, st)
	c.mustRun("init", "bank", "--accounts", "1000")
	certUser, _ := st.FirstUser(stack.MethodCert)
	p, err := faults.StackCommitDropperAs(st, certUser.Name, dashCommitEvery, dashCommitDrops)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	begin := time.Now()
	r := startRunFor(t, c, 5*time.Minute, "run", "bank", "--auth", "cert", "--concurrency", "8", "--duration", "0",
		"--host", "127.0.0.1", "--port", strconv.Itoa(p.Port()), "--max-retries", "0",
		"--max-rate", "200", "--max-conn-lifetime", "4s", "--max-conn-lifetime-jitter", "1s",
		"--tolerate-errors", "--metrics-addr", "127.0.0.1:0", "--out", filepath.Join(t.TempDir(), "run"))
	addr := waitMatch(t, r, metricsLine)[1]
	scrapeOnly(t, st, addr)
	lintScrape(t, waitScrape(t, "http://"+addr+"/metrics", "authbench_ops_total"))
	prom := prometheus.Of(st).URL()
	ops := substituteVars(`authbench_ops_total{workload="$workload",auth_mode="$auth_mode"}`)
	if missing := waitPromData(r, prom, []string{ops}, begin, time.Minute); len(missing) > 0 {
		t.Fatalf("Prometheus has no ops of the run after a minute: %s\nstdout:\n%s\nstderr:\n%s", missing[ops], r.output(), r.stderr.String())
	}
	checkLabelValues(t, prom, "workload", "bank")
	checkLabelValues(t, prom, "auth_mode", "cert")
	rotated := time.Now()
	t.Logf("Prometheus had the run's ops %.1fs after its start", rotated.Sub(begin).Seconds())
	rotateClientCert(t, st) // recycled connections pick it up
	var exprs []string
	where := map[string]string{}
	for file, d := range loadDashboards(t) {
		for _, q := range dashQueries(file, d) {
			e := substituteVars(q.expr)
			exprs = append(exprs, e)
			where[e] += q.where + "; "
		}
	}
	missing := waitPromData(r, prom, exprs, begin, 2*time.Minute)
	t.Logf("%d of %d queries had data %.1fs after the rotation", len(exprs)-len(missing), len(exprs), time.Since(rotated).Seconds())
	r.interrupt(t)
	for e, why := range missing {
		t.Errorf("%s returned no data: %s\nquery: %s", strings.TrimSuffix(where[e], "; "), why, e)
	}
	if len(missing) > 0 {
		t.Logf("the proxy dropped %d COMMIT replies (errors %v)", len(p.Drops()), p.Errors())
	}
}

// metricsLine is the line giving the address a run serves /metrics at.
var metricsLine = regexp.MustCompile(`^metrics: http://(\S+)/metrics$`)

// refusedAddr returns a 127.0.0.1 address whose port is held, until the
// test ends, by a socket that does not listen: nothing else can take it and
// every connection to it is refused at once.
func refusedAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
}

// scrapeOnly makes the stack's Prometheus scrape addr alone, through its
// file_sd targets file (re-read on change, at the latest every 5 s).
func scrapeOnly(t *testing.T, st *stack.State, addr string) {
	t.Helper()
	targets, err := json.Marshal([]map[string]any{{"targets": []string{addr}, "labels": map[string]string{}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.WriteFileAtomic(prometheus.Of(st).TargetsFile, append(targets, '\n'), 0o644, nil); err != nil {
		t.Fatal(err)
	}
}

// waitPromData runs the range queries exprs from begin to now every second
// until each has returned data once, for at most within or until the run
// ends; it returns those that never did, with why.
func waitPromData(r *backgroundRun, prom string, exprs []string, begin time.Time, within time.Duration) map[string]string {
	missing := map[string]string{}
	for _, e := range exprs {
		missing[e] = "not queried"
	}
	deadline := time.After(within)
	for {
		for e := range missing {
			if why := rangeHasData(prom, e, begin, time.Now()); why == "" {
				delete(missing, e)
			} else {
				missing[e] = why
			}
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-time.After(time.Second):
		case <-deadline:
			return missing
		case <-r.done:
			for e, why := range missing {
				missing[e] = why + " (the run ended first)"
			}
			return missing
		}
	}
}

// waitScrape scrapes url until a successful op has been counted.
func waitScrape(t *testing.T, u, metric string) []byte {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(u)
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, metric+"{") && !strings.HasSuffix(line, " 0") {
				return body
			}
		}
	}
	t.Fatalf("%s did not count an op in 60s", u)
	return nil
}

// lintScrape runs `promtool check metrics` on a scrape.
func lintScrape(t *testing.T, scrape []byte) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal(`promtool not found: run "make deps" or apt-get install prometheus`)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(scrape)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// rotateClientCert issues the cert user a new certificate, as the stack's
// CA would on rotation; recycled connections pick it up.
func rotateClientCert(t *testing.T, st *stack.State) {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(st.CertsDir, stack.CACommonName)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := st.FirstUser(stack.MethodCert)
	if _, _, err := ca.IssueClient(st.CertsDir, u.Name, time.Hour); err != nil {
		t.Fatal(err)
	}
}

// checkLabelValues wants a dashboard variable's query to offer value.
func checkLabelValues(t *testing.T, prom, label, value string) {
	t.Helper()
	var r struct {
		Data []string `json:"data"`
	}
	u := prom + "/api/v1/label/" + label + "/values?match[]=authbench_ops_total"
	if why := stacktest.GetJSON(u, &r); why != "" || !strings.Contains(strings.Join(r.Data, " "), value) {
		t.Errorf("variable %s offers %v (%s), want %q", label, r.Data, why, value)
	}
}

// rangeHasData runs a range query like Grafana's and says why it has no
// series with a number ("" when it has one).
func rangeHasData(prom, expr string, start, end time.Time) string {
	q := url.Values{"query": {expr}, "step": {"2"},
		"start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)}}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if why := stacktest.GetJSON(prom+"/api/v1/query_range?"+q.Encode(), &r); why != "" {
		return why
	}
	if r.Status != "success" {
		return r.Error
	}
	for _, s := range r.Data.Result {
		for _, v := range s.Values {
			if f, err := strconv.ParseFloat(fmt.Sprint(v[1]), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return ""
			}
		}
	}
	return fmt.Sprintf("%d series, none with a number", len(r.Data.Result))
}
