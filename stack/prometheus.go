package stack

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
	"strconv"
	"syscall"
	"time"

	"github.com/authbench/authbench/stack/pki"
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

const prometheusName = "prometheus"

// prometheusPaths are where prometheus is looked for when it is not on PATH.
var prometheusPaths = []string{"/usr/bin/prometheus"}

// PrometheusConfig configures the stack's Prometheus (Debian prometheus):
// it scrapes the driver's /metrics with the job of dashboards/prometheus.yml.
// Zero fields keep what the stack has, else take the defaults.
type PrometheusConfig struct {
	// Targets are the drivers' metrics addresses (host:port); the default
	// is DefaultMetricsAddr. They go to a file_sd targets file, so a later
	// Up with other targets needs no restart.
	Targets []string
	// ScrapeInterval is MinScrapeInterval to MaxScrapeInterval; the default
	// is DefaultScrapeInterval.
	ScrapeInterval time.Duration
}

// PrometheusState is the persisted state of the stack's Prometheus.
type PrometheusState struct {
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
func (p *PrometheusState) URL() string {
	return "http://" + hostPort("127.0.0.1", p.Port)
}

// prometheusComponent runs Prometheus scraping the driver.
type prometheusComponent struct{}

func (prometheusComponent) name() string { return prometheusName }

// merge enables Prometheus when cfg asks for it; a stack keeps it once it
// has it, so Down always stops what Up started.
func (prometheusComponent) merge(cfg Config, s *State) {
	if cfg.Prometheus == nil && s.Prometheus == nil {
		return
	}
	if s.Prometheus == nil {
		dir := s.builtinDir(prometheusName)
		port, _ := FreePort() // 0 on failure: finish reports it
		s.Prometheus = &PrometheusState{
			Port: port, Targets: []string{DefaultMetricsAddr}, ScrapeInterval: DefaultScrapeInterval,
			ConfigFile: filepath.Join(dir, "prometheus.yml"), TargetsFile: filepath.Join(dir, "targets.json"),
			DataDir: filepath.Join(dir, "data"),
		}
	}
	if c := cfg.Prometheus; c != nil && len(c.Targets) > 0 {
		s.Prometheus.Targets = c.Targets
	}
	if c := cfg.Prometheus; c != nil && c.ScrapeInterval != 0 {
		s.Prometheus.ScrapeInterval = c.ScrapeInterval
	}
}

func (prometheusComponent) enabled(s *State) bool { return s.Prometheus != nil }

// prepare does nothing: PostgreSQL does not depend on Prometheus.
func (prometheusComponent) prepare(ctx context.Context, s *State, log io.Writer) error { return nil }

// finish writes the configuration and the targets and starts Prometheus,
// or makes a running one reload a changed configuration.
func (prometheusComponent) finish(ctx context.Context, s *State, log io.Writer) error {
	p := s.Prometheus
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
	if pid := s.builtinPID(prometheusName); alive(pid) {
		return p.reload(pid, changed, log)
	}
	fmt.Fprintf(log, "prometheus: starting on %s, scraping %v every %s\n", p.URL(), p.Targets, p.ScrapeInterval)
	return s.startPrometheus(ctx)
}

// validate checks the settings Prometheus would otherwise reject.
func (p *PrometheusState) validate() error {
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
func (p *PrometheusState) reload(pid int, changed bool, log io.Writer) error {
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
func (p *PrometheusState) writeFiles() (changed bool, err error) {
	cfg := []byte(p.config())
	old, _ := os.ReadFile(p.ConfigFile)
	if !bytes.Equal(old, cfg) {
		if err := pki.WriteFileAtomic(p.ConfigFile, cfg, 0o644, nil); err != nil {
			return false, err
		}
		changed = true
	}
	targets, err := json.MarshalIndent([]map[string]any{{"targets": p.Targets, "labels": map[string]string{}}}, "", "  ")
	if err != nil {
		return false, fmt.Errorf("encode prometheus targets: %w", err)
	}
	return changed, pki.WriteFileAtomic(p.TargetsFile, append(targets, '\n'), 0o644, nil)
}

// config renders prometheus.yml: the scrape job of dashboards/prometheus.yml
// with its targets in TargetsFile.
func (p *PrometheusState) config() string {
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

// startPrometheus starts Prometheus detached, its output in its log, and
// waits until it is ready.
func (s *State) startPrometheus(ctx context.Context) error {
	bin, err := prometheusBinary()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(s.builtinLog(prometheusName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open prometheus log: %w", err)
	}
	defer logf.Close()
	p := s.Prometheus
	cmd := command(context.WithoutCancel(ctx), nil, filepath.Dir(p.ConfigFile), bin,
		"--config.file="+p.ConfigFile, "--storage.tsdb.path="+p.DataDir,
		"--web.listen-address="+hostPort("127.0.0.1", p.Port))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start prometheus: %w", err)
	}
	pid := cmd.Process.Pid
	go cmd.Wait() // reap it if it dies while we still run
	if err := os.WriteFile(s.builtinPIDFile(prometheusName), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write prometheus pid file: %w", err)
	}
	return s.waitPrometheus(ctx, pid)
}

// prometheusReadyTimeout bounds how long Prometheus may take to answer
// /-/ready; generous, since a busy machine must not fail `stack up`.
const prometheusReadyTimeout = 60 * time.Second

// waitPrometheus waits until Prometheus answers /-/ready.
func (s *State) waitPrometheus(ctx context.Context, pid int) error {
	url, logFile := s.Prometheus.URL()+"/-/ready", s.builtinLog(prometheusName)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(prometheusReadyTimeout)
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !alive(pid) {
			return fmt.Errorf("prometheus exited at start: %s (see %s)", fileTail(logFile), logFile)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped waiting for prometheus on %s: %w (see %s)", url, err, logFile)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("prometheus not ready on %s after %s (see %s)", url, prometheusReadyTimeout, logFile)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// prometheusBinary finds Debian's prometheus.
func prometheusBinary() (string, error) {
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p, nil
	}
	for _, p := range prometheusPaths {
		if exists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf(`prometheus not found (prometheus): run "make deps" or apt-get install prometheus`)
}

func (prometheusComponent) stop(s *State, log io.Writer) error {
	return s.stopBuiltin(prometheusName, log)
}

func (prometheusComponent) status(s *State) []ComponentStatus {
	pid := s.builtinPID(prometheusName)
	return []ComponentStatus{{Name: prometheusName, PID: pid, Address: hostPort("127.0.0.1", s.Prometheus.Port), Running: alive(pid)}}
}

func (prometheusComponent) env(s *State) []EnvVar {
	return []EnvVar{{"AUTHBENCH_PROMETHEUS_URL", s.Prometheus.URL()}}
}
