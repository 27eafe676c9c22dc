package prometheus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/internal/proc"
	"github.com/authbench/authbench/stack"
)

// DefaultMetricsAddr is where `authbench run` serves /metrics unless told
// otherwise, hence what the stack's Prometheus scrapes by default.
const DefaultMetricsAddr = "127.0.0.1:2112"

// Prometheus scrape intervals: the default and the range the stack accepts.
const (
	DefaultScrapeInterval = 2 * time.Second
	MinScrapeInterval     = time.Second
	MaxScrapeInterval     = 5 * time.Second
)

// PrometheusJob is the scrape job of the driver, in the stack's
// configuration and in dashboards/prometheus.yml.
const PrometheusJob = "authbench"

// Name is the component's name (state.json, DIR/prometheus, status).
const Name = "prometheus"

func init() { stack.Register(40, component{}) }

// prometheusPaths are where prometheus is looked for when it is not on PATH.
var prometheusPaths = []string{"/usr/bin/prometheus"}

// Settings configure the stack's Prometheus (Debian prometheus):
// it scrapes the driver's /metrics with the job of dashboards/prometheus.yml.
// Zero fields keep what the stack has, else take the defaults.
type Settings struct {
	// Targets are the drivers' metrics addresses (host:port); the default
	// is DefaultMetricsAddr. They go to a file_sd targets file, so a later
	// Up with other targets needs no restart.
	Targets []string
	// ScrapeInterval is MinScrapeInterval to MaxScrapeInterval; the default
	// is DefaultScrapeInterval.
	ScrapeInterval time.Duration
}

// Enable asks cfg's Up for Prometheus with settings s.
func Enable(cfg *stack.Config, s Settings) { cfg.Enable(Name, s) }

// State is the persisted state of the stack's Prometheus.
type State struct {
	// Port is Prometheus's HTTP port on 127.0.0.1.
	Port int `json:"port"`
	// Targets are the scraped metrics addresses.
	Targets []string `json:"targets"`
	// ScrapeInterval is the scrape and evaluation interval.
	ScrapeInterval time.Duration `json:"scrape_interval"`
	// ConfigFile is prometheus.yml, rewritten on every Up.
	ConfigFile string `json:"config_file"`
	// TargetsFile is the file_sd file listing Targets.
	TargetsFile string `json:"targets_file"`
	// DataDir is the TSDB directory.
	DataDir string `json:"data_dir"`
}

// URL returns Prometheus's base URL, e.g. http://127.0.0.1:9090.
func (p *State) URL() string {
	return "http://" + stack.HostPort("127.0.0.1", p.Port)
}

// Of returns the component's state in st, nil when the stack has none.
func Of(st *stack.State) *State { return stack.Section[State](st, Name) }

// component runs Prometheus scraping the driver.
type component struct{}

func (component) Name() string { return Name }

// Merge enables Prometheus when cfg asks for it; a stack keeps it once it
// has it, so Down always stops what Up started.
func (component) Merge(cfg stack.Config, st *stack.State) {
	v, asked := cfg.Settings(Name)
	if !asked && Of(st) == nil {
		return
	}
	if Of(st) == nil {
		dir := st.ComponentDir(Name)
		port, _ := stack.FreePort() // 0 on failure: Finish reports it
		stack.SetSection(st, Name, &State{
			Port: port, Targets: []string{DefaultMetricsAddr}, ScrapeInterval: DefaultScrapeInterval,
			ConfigFile: filepath.Join(dir, "prometheus.yml"), TargetsFile: filepath.Join(dir, "targets.json"),
			DataDir: filepath.Join(dir, "data"),
		})
	}
	if !asked {
		return
	}
	p, c := Of(st), v.(Settings)
	if len(c.Targets) > 0 {
		p.Targets = c.Targets
	}
	if c.ScrapeInterval != 0 {
		p.ScrapeInterval = c.ScrapeInterval
	}
}

func (component) Enabled(st *stack.State) bool { return Of(st) != nil }

// Prepare does nothing: PostgreSQL does not depend on Prometheus.
func (component) Prepare(ctx context.Context, st *stack.State, log io.Writer) error { return nil }

// Finish writes the configuration and the targets and starts Prometheus,
// or makes a running one reload a changed configuration.
func (component) Finish(ctx context.Context, st *stack.State, log io.Writer) error {
	p := Of(st)
	if err := p.validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(p.DataDir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", p.DataDir, err)
	}
	changed, err := p.writeFiles()
	if err != nil {
		return err
	}
	if pid := st.PID(Name); proc.Alive(pid) {
		return p.reload(pid, changed, log)
	}
	fmt.Fprintf(log, "prometheus: starting on %s, scraping %v every %s\n", p.URL(), p.Targets, p.ScrapeInterval)
	return start(ctx, st)
}

// validate checks the settings Prometheus would otherwise reject.
func (p *State) validate() error {
	if p.Port == 0 {
		return fmt.Errorf("prometheus: no free port on 127.0.0.1")
	}
	if p.ScrapeInterval < MinScrapeInterval || p.ScrapeInterval > MaxScrapeInterval || p.ScrapeInterval%time.Second != 0 {
		return fmt.Errorf("prometheus scrape interval %s: use whole seconds from %s to %s", p.ScrapeInterval, MinScrapeInterval, MaxScrapeInterval)
	}
	for _, t := range p.Targets {
		if _, port, err := net.SplitHostPort(t); err != nil || port == "" {
			return fmt.Errorf("prometheus target %q is not host:port (e.g. %s)", t, DefaultMetricsAddr)
		}
	}
	return nil
}

// reload makes a running Prometheus read a changed configuration (SIGHUP);
// changed targets need nothing, file_sd watches its file.
func (p *State) reload(pid int, changed bool, log io.Writer) error {
	fmt.Fprintf(log, "prometheus: already running (pid %d) on %s, scraping %v\n", pid, p.URL(), p.Targets)
	if !changed {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("reload prometheus (pid %d): %w", pid, err)
	}
	return nil
}

// writeFiles writes prometheus.yml and the targets file and reports
// whether prometheus.yml changed.
func (p *State) writeFiles() (changed bool, err error) {
	cfg := []byte(p.config())
	old, _ := os.ReadFile(p.ConfigFile)
	if !bytes.Equal(old, cfg) {
		if err := stack.WriteFileAtomic(p.ConfigFile, cfg, 0o644, nil); err != nil {
			return false, err
		}
		changed = true
	}
	targets, err := json.MarshalIndent([]map[string]any{{"targets": p.Targets, "labels": map[string]string{}}}, "", "  ")
	if err != nil {
		return false, fmt.Errorf("encode prometheus targets: %w", err)
	}
	return changed, stack.WriteFileAtomic(p.TargetsFile, append(targets, '\n'), 0o644, nil)
}

// config renders prometheus.yml: the scrape job of dashboards/prometheus.yml
// with its targets in TargetsFile.
func (p *State) config() string {
	iv := p.ScrapeInterval.String()
	return fmt.Sprintf(`# Written by `+"`authbench stack up`"+` on every run: the job of dashboards/prometheus.yml,
# its targets in %s (file_sd: edit it, or run `+"`stack up`"+` again, no restart needed).
global:
  scrape_interval: %s
  scrape_timeout: %s
  evaluation_interval: %s

scrape_configs:
  - job_name: %s
    metrics_path: /metrics
    file_sd_configs:
      - files: [%q]
        refresh_interval: 5s
`, filepath.Base(p.TargetsFile), iv, iv, iv, PrometheusJob, p.TargetsFile)
}

// start starts Prometheus detached, its output in its log, and waits
// until it answers /-/ready.
func start(ctx context.Context, st *stack.State) error {
	bin, err := binary()
	if err != nil {
		return err
	}
	p := Of(st)
	cmd := proc.Command(context.WithoutCancel(ctx), nil, filepath.Dir(p.ConfigFile), bin,
		"--config.file="+p.ConfigFile, "--storage.tsdb.path="+p.DataDir,
		"--web.listen-address="+stack.HostPort("127.0.0.1", p.Port))
	started, err := proc.Start(proc.Spec{Name: Name, Cmd: cmd, LogFile: st.LogFile(Name), PIDFile: st.PIDFile(Name)})
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: time.Second}
	return proc.WaitReady(ctx, proc.Ready{
		Name: Name, PID: started.PID, LogFile: st.LogFile(Name), LogOffset: started.LogOffset,
		Timeout: stack.ReadyTimeout, Every: 100 * time.Millisecond,
		Probe: func(string) bool {
			resp, err := client.Get(p.URL() + "/-/ready")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		},
	})
}

// binary finds Debian's prometheus.
func binary() (string, error) {
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p, nil
	}
	for _, p := range prometheusPaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf(`prometheus not found (prometheus): run "make deps" or apt-get install prometheus`)
}

func (component) Stop(st *stack.State, log io.Writer) error { return st.StopServer(Name, log) }

func (component) Status(st *stack.State) []stack.ComponentStatus {
	return []stack.ComponentStatus{{Name: Name, PID: st.PID(Name), Address: stack.HostPort("127.0.0.1", Of(st).Port), Running: st.Running(Name)}}
}

func (component) Env(st *stack.State) []stack.EnvVar {
	return []stack.EnvVar{{Name: "AUTHBENCH_PROMETHEUS_URL", Value: Of(st).URL()}}
}

// AddFlags registers --with-prometheus, --prometheus-target and
// --prometheus-scrape-interval. Prometheus is off unless one of them is
// given; once a stack has it, it keeps it.
func (component) AddFlags(fs *pflag.FlagSet) func() (any, error) {
	with := fs.Bool("with-prometheus", false, "also run Prometheus (Debian prometheus) scraping the driver's --metrics-addr; its URL is exported as AUTHBENCH_PROMETHEUS_URL")
	targets := fs.StringSlice("prometheus-target", nil, "metrics address Prometheus scrapes, repeatable (default "+DefaultMetricsAddr+"); implies --with-prometheus")
	interval := fs.Duration("prometheus-scrape-interval", DefaultScrapeInterval, "Prometheus scrape interval, 1s to 5s; implies --with-prometheus")
	return func() (any, error) {
		changed := fs.Changed("prometheus-target") || fs.Changed("prometheus-scrape-interval")
		if !*with && !changed {
			return nil, nil
		}
		c := Settings{Targets: *targets}
		for _, t := range *targets {
			if _, port, err := net.SplitHostPort(t); err != nil || port == "" {
				return nil, fmt.Errorf("--prometheus-target %q is not host:port, e.g. %s", t, DefaultMetricsAddr)
			}
		}
		if fs.Changed("prometheus-scrape-interval") {
			iv := *interval
			if iv < MinScrapeInterval || iv > MaxScrapeInterval || iv%time.Second != 0 {
				return nil, fmt.Errorf("--prometheus-scrape-interval %s: use whole seconds from %s to %s", iv, MinScrapeInterval, MaxScrapeInterval)
			}
			c.ScrapeInterval = iv
		}
		return c, nil
	}
}
