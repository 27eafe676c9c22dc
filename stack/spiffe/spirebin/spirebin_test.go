package spirebin

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVersionIsTheModules: the version Find wants is the one
// tools/spire/go.mod builds.
func TestVersionIsTheModules(t *testing.T) {
	data, err := os.ReadFile("../../../tools/spire/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/spiffe/spire v(\S+)`).FindSubmatch(data)
	if m == nil || string(m[1]) != Version {
		t.Errorf("tools/spire/go.mod requires spire %q, spirebin.Version is %q", m, Version)
	}
	mk, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "spire-v"+Version) {
		t.Errorf("the Makefile's SPIRE_DIR does not name spire-v%s", Version)
	}
}

func TestVersions(t *testing.T) {
	for v, want := range map[string]bool{"1.13.3-dev-unk": true, "1.9.0": true, "v1.10.2": true, "1.8.7": false, "0.12.0": false, "2.0.0": true, "garbage": false} {
		if got := atLeast(v, MinVersion); got != want {
			t.Errorf("atLeast(%q, %s) = %v", v, MinVersion, got)
		}
	}
	if release("1.13.3-dev-unk") != "1.13.3" {
		t.Error(release("1.13.3-dev-unk"))
	}
}

// TestFindPrefersPath: spire-server and spire-agent of a new enough
// version on PATH win over the cache; an old one on PATH does not; with
// neither, the error says how to get SPIRE in one line.
func TestFindPrefersPath(t *testing.T) {
	bin := t.TempDir()
	t.Setenv(DirEnv, t.TempDir()) // an empty cache
	fake := func(version string) {
		for _, name := range []string{Server, Agent} {
			script := "#!/bin/sh\necho " + version + " >&2\n"
			if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	fake("1.10.1")
	b, err := Find()
	if err != nil || !b.OnPath || b.Server != filepath.Join(bin, Server) || b.Version != "1.10.1" {
		t.Errorf("Find with SPIRE 1.10.1 on PATH = %+v, %v", b, err)
	}
	fake("1.8.0")
	t.Setenv("PATH", bin) // nothing else on PATH
	_, err = Find()
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "make deps") || !strings.Contains(err.Error(), CacheDir()) {
		t.Errorf("Find with SPIRE 1.8.0 on PATH and an empty cache: %v, want one line naming make deps and %s", err, CacheDir())
	}
}
