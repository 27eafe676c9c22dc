// Package spirebin finds the SPIRE server and agent the stack runs, and
// builds them: a user's own spire-server and spire-agent on PATH when both
// are MinVersion or newer, else the Version that `make deps` builds from
// tools/spire (a Go module of its own) into CacheDir. The Makefile and the
// stack both ask Find, so they never disagree about which SPIRE is used.
package spirebin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Version is the SPIRE release tools/spire/go.mod pins and `make deps`
// builds.
const Version = "1.13.3"

// MinVersion is the oldest SPIRE on PATH the stack uses instead of its own
// build (entry IDs chosen by the client, the unix workload attestor and
// `-output json` of the server CLI are all there since 1.9).
const MinVersion = "1.9.0"

// DirEnv names the variable that overrides CacheDir (the Makefile's
// SPIRE_DIR).
const DirEnv = "SPIRE_DIR"

// Server and Agent are the binaries' names.
const (
	Server = "spire-server"
	Agent  = "spire-agent"
)

// Binaries are the SPIRE server and agent the stack runs.
type Binaries struct {
	// Server and Agent are the binaries' paths.
	Server, Agent string
	// Version is what the server says it is (e.g. "1.13.3-dev-unk").
	Version string
	// OnPath says they came from PATH rather than CacheDir.
	OnPath bool
}

// CacheDir is where `make deps` builds Version: $SPIRE_DIR, else
// $HOME/.cache/authbench/spire-v<Version>, outside every clone so that a
// second clone needs no second build.
func CacheDir() string {
	if d := os.Getenv(DirEnv); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".cache", "authbench", "spire-v"+Version)
}

// ErrNotFound is the cause of Find's error when neither PATH nor CacheDir
// has a usable SPIRE.
var ErrNotFound = errors.New("SPIRE not found")

// Find returns spire-server and spire-agent from PATH when both are
// MinVersion or newer, else Version's build in CacheDir.
func Find() (Binaries, error) {
	if b, ok := fromPath(); ok {
		return b, nil
	}
	dir := CacheDir()
	b := Binaries{Server: filepath.Join(dir, Server), Agent: filepath.Join(dir, Agent)}
	sv, errS := versionOf(b.Server)
	av, errA := versionOf(b.Agent)
	if errS == nil && errA == nil && release(sv) == Version && release(av) == Version {
		b.Version = sv
		return b, nil
	}
	return Binaries{}, fmt.Errorf("%w: no %s and %s %s or newer on PATH, and no v%s build in %s: run `make deps` (it builds them there; SPIRE_DIR moves it) or put SPIRE on PATH",
		ErrNotFound, Server, Agent, MinVersion, Version, dir)
}

// fromPath returns the binaries on PATH when both are new enough.
func fromPath() (Binaries, bool) {
	server, errS := exec.LookPath(Server)
	agent, errA := exec.LookPath(Agent)
	if errS != nil || errA != nil {
		return Binaries{}, false
	}
	sv, errS := versionOf(server)
	av, errA := versionOf(agent)
	if errS != nil || errA != nil || !atLeast(sv, MinVersion) || !atLeast(av, MinVersion) {
		return Binaries{}, false
	}
	return Binaries{Server: server, Agent: agent, Version: sv, OnPath: true}, true
}

// versionOf runs `bin --version` (SPIRE prints it on stderr).
func versionOf(bin string) (string, error) {
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", bin, err)
	}
	v := strings.TrimSpace(string(out))
	if _, ok := parse(v); !ok {
		return "", fmt.Errorf("%s --version printed %q, not a version", bin, v)
	}
	return v, nil
}

// release is the x.y.z part of a version such as "1.13.3-dev-unk".
func release(v string) string {
	r, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(v), "v"), "-")
	return r
}

// parse splits a version into major, minor and patch.
func parse(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.Split(release(v), ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

// atLeast reports whether version v is min or newer.
func atLeast(v, min string) bool {
	a, ok := parse(v)
	b, _ := parse(min)
	if !ok {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}
