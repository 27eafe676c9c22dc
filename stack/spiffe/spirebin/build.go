package spirebin

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// packages are the commands Build builds, as tools/spire/go.mod names them.
var packages = []string{"github.com/spiffe/spire/cmd/spire-server", "github.com/spiffe/spire/cmd/spire-agent"}

// Ensure makes Find succeed: it reports the SPIRE Find picks, or builds
// Version from the module in moduleDir (tools/spire) into CacheDir. The
// build goes to a temporary directory beside it first, so an interrupted
// build never leaves one binary without the other.
func Ensure(ctx context.Context, moduleDir string, log io.Writer) (Binaries, error) {
	if b, err := Find(); err == nil {
		fmt.Fprintf(log, "spire: using %s and %s (%s)\n", b.Server, b.Agent, b.Version)
		return b, nil
	}
	dir := CacheDir()
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Binaries{}, fmt.Errorf("spire: create %s: %w", filepath.Dir(dir), err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".build-")
	if err != nil {
		return Binaries{}, fmt.Errorf("spire: %w", err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "spire: building SPIRE v%s into %s (the first time takes minutes)\n", Version, dir)
	args := append([]string{"build", "-trimpath", "-ldflags", "-s -w", "-o", tmp + "/"}, packages...)
	cmd := exec.CommandContext(ctx, goCommand(), args...)
	cmd.Dir = moduleDir
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return Binaries{}, fmt.Errorf("spire: go build in %s: %w", moduleDir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, fmt.Errorf("spire: create %s: %w", dir, err)
	}
	for _, name := range []string{Server, Agent} {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return Binaries{}, fmt.Errorf("spire: install %s: %w", name, err)
		}
	}
	b, err := Find()
	if err != nil {
		return Binaries{}, err
	}
	fmt.Fprintf(log, "spire: built %s and %s (%s)\n", b.Server, b.Agent, b.Version)
	return b, nil
}

// goCommand is the go command: $GO (the Makefile's), else go.
func goCommand() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}
