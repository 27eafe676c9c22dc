package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
)

// serveMetrics serves the run's metrics at http://addr/metrics until the
// returned func is called. The Prometheus registry is the run's own, never
// the global one. An empty addr disables it; an address that cannot be
// bound costs one warning line on stdout, not the run.
func serveMetrics(addr string, reg *results.Registry, workload, auth string, cfg *driver.Config, stdout io.Writer) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	preg, err := metricsRegistry(results.NewCollector(reg, results.CollectorOpts{
		Workload: workload, AuthMode: auth, Workers: cfg.Concurrency, TargetRate: cfg.MaxRate,
	}))
	if err != nil {
		return nil, err
	}
	return serveRegistry(addr, preg, stdout), nil
}

// serveRegistry serves preg at http://addr/metrics until the returned func
// is called; an address that cannot be bound costs one warning line.
func serveRegistry(addr string, preg *prometheus.Registry, stdout io.Writer) func() {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stdout, "metrics: warning: not serving /metrics: %s (pass a free --metrics-addr, or --metrics-addr '' to disable)\n", oneLine(err.Error()))
		return func() {}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(preg, promhttp.HandlerOpts{Registry: preg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(stdout, "metrics: http://%s/metrics\n", ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
}

// metricsRegistry returns a registry with the given collectors and the
// driver process's own Go and process metrics.
func metricsRegistry(cs ...prometheus.Collector) (*prometheus.Registry, error) {
	preg := prometheus.NewRegistry()
	for _, c := range append(cs,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	) {
		if err := preg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %v", err)
		}
	}
	return preg, nil
}
