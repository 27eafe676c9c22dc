package main

import (
	"io"

	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
)

// serveMetrics serves the run's metrics at addr until the returned func is
// called. Not yet implemented: serves nothing.
func serveMetrics(addr string, reg *results.Registry, workload, auth string, cfg *driver.Config, stdout io.Writer) (func(), error) {
	return func() {}, nil
}
