package stack

import (
	"context"
	"io"
)

// spiffeComponent runs the stack's spiffe server. Not yet wired: disabled.
type spiffeComponent struct{}

func (spiffeComponent) name() string                                               { return "spiffe" }
func (spiffeComponent) merge(cfg Config, s *State)                                 {}
func (spiffeComponent) enabled(s *State) bool                                      { return false }
func (spiffeComponent) prepare(ctx context.Context, s *State, log io.Writer) error { return nil }
func (spiffeComponent) finish(ctx context.Context, s *State, log io.Writer) error  { return nil }
func (spiffeComponent) stop(s *State, log io.Writer) error                         { return nil }
func (spiffeComponent) status(s *State) []ComponentStatus                          { return nil }
func (spiffeComponent) env(s *State) []EnvVar                                      { return nil }

// SPIFFEConfig configures the stack's SPIFFE component.
type SPIFFEConfig struct{}

// SPIFFEState is the persisted state of the stack's SPIFFE component.
type SPIFFEState struct{}
