package main

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack"
)

// prometheusFlags are the flags of `stack up` for Prometheus, which is off
// unless asked for; once a stack has it, it keeps it.
type prometheusFlags struct {
	fs       *pflag.FlagSet
	with     bool
	targets  []string
	interval time.Duration
}

func (f *prometheusFlags) register(fs *pflag.FlagSet) {
	f.fs = fs
	fs.BoolVar(&f.with, "with-prometheus", false, "also run Prometheus (Debian prometheus) scraping the driver's --metrics-addr; its URL is AUTHBENCH_PROMETHEUS_URL in `stack env`")
	fs.StringSliceVar(&f.targets, "prometheus-target", nil, "metrics address Prometheus scrapes, repeatable (default "+stack.DefaultMetricsAddr+"); implies --with-prometheus")
	fs.DurationVar(&f.interval, "prometheus-scrape-interval", stack.DefaultScrapeInterval, "Prometheus scrape interval, 1s to 5s; implies --with-prometheus")
}

// config returns Prometheus's configuration, nil when no flag asks for it;
// unset flags stay zero so that an existing stack keeps its settings.
func (f *prometheusFlags) config() (*stack.PrometheusConfig, error) {
	changed := f.fs.Changed("prometheus-target") || f.fs.Changed("prometheus-scrape-interval")
	if !f.with && !changed {
		return nil, nil
	}
	c := &stack.PrometheusConfig{Targets: f.targets}
	for _, t := range f.targets {
		if _, port, err := net.SplitHostPort(t); err != nil || port == "" {
			return nil, fmt.Errorf("--prometheus-target %q is not host:port, e.g. %s", t, stack.DefaultMetricsAddr)
		}
	}
	if f.fs.Changed("prometheus-scrape-interval") {
		iv := f.interval
		if iv < stack.MinScrapeInterval || iv > stack.MaxScrapeInterval || iv%time.Second != 0 {
			return nil, fmt.Errorf("--prometheus-scrape-interval %s: use whole seconds from %s to %s", iv, stack.MinScrapeInterval, stack.MaxScrapeInterval)
		}
		c.ScrapeInterval = iv
	}
	return c, nil
}
