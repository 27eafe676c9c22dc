package stack

import (
	"context"
	"io"
)

// prometheusComponent runs Prometheus. Not yet wired: disabled.
type prometheusComponent struct{}

func (prometheusComponent) name() string                                               { return "prometheus" }
func (prometheusComponent) merge(cfg Config, s *State)                                 {}
func (prometheusComponent) enabled(s *State) bool                                      { return false }
func (prometheusComponent) prepare(ctx context.Context, s *State, log io.Writer) error { return nil }
func (prometheusComponent) finish(ctx context.Context, s *State, log io.Writer) error  { return nil }
func (prometheusComponent) stop(s *State, log io.Writer) error                         { return nil }
func (prometheusComponent) status(s *State) []ComponentStatus                          { return nil }
func (prometheusComponent) env(s *State) []EnvVar                                      { return nil }

// PrometheusConfig configures the stack's Prometheus.
type PrometheusConfig struct{}

// PrometheusState is the persisted state of the stack's Prometheus.
type PrometheusState struct{}
