package deploy

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// composePath is the reference topology's compose file.
const composePath = "compose/docker-compose.yml"

// hostPaths are the only bind-mount sources allowed outside the
// repository: the docker socket, for SPIRE's docker workload attestor.
var hostPaths = map[string]bool{"/var/run/docker.sock": true}

// repoRoot is the repository the compose file's paths must stay in.
const repoRoot = ".."

// within reports whether path lies in dir (both absolute).
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// referenceProblems lists what compose-go's own consistency checks leave
// to us: every file or directory the project names (bind mounts, build
// contexts, Dockerfiles, config and secret files) must exist, bind mounts
// must stay inside root (the repository) unless listed in hostPaths, a
// service waited for as healthy needs a healthcheck, and every declared
// volume and network must be used.
func referenceProblems(p *types.Project, root string) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	root, _ = filepath.Abs(root)
	exists := func(what, path string) {
		if _, err := os.Stat(path); err != nil {
			bad("%s %s does not exist", what, relTo(root, path))
		}
	}
	usedVolumes, usedNetworks := map[string]bool{}, map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[name]
		if s.Build != nil {
			exists("service "+name+": build context", s.Build.Context)
			dockerfile := s.Build.Dockerfile
			if !filepath.IsAbs(dockerfile) {
				dockerfile = filepath.Join(s.Build.Context, dockerfile)
			}
			exists("service "+name+": Dockerfile", dockerfile)
		}
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionHealthy && p.Services[dep].HealthCheck == nil {
				bad("service %s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
		for n := range s.Networks {
			usedNetworks[n] = true
		}
		for _, v := range s.Volumes {
			switch {
			case v.Type == types.VolumeTypeBind && !within(v.Source, root):
				if !hostPaths[v.Source] {
					bad("service %s bind-mounts host path %s: only %v may come from outside the repository", name, v.Source, slices.Sorted(maps.Keys(hostPaths)))
				}
			case v.Type == types.VolumeTypeBind:
				exists("service "+name+": bind-mount source", v.Source)
			case v.Type == types.VolumeTypeVolume && v.Source != "":
				usedVolumes[v.Source] = true
			}
		}
	}
	for name, c := range p.Configs {
		if c.File != "" {
			exists("config "+name+": file", c.File)
		}
	}
	for name, c := range p.Secrets {
		if c.File != "" {
			exists("secret "+name+": file", c.File)
		}
	}
	for _, v := range slices.Sorted(maps.Keys(p.Volumes)) {
		if !usedVolumes[v] {
			bad("volume %s is declared but no service mounts it", v)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(p.Networks)) {
		if !usedNetworks[n] {
			bad("network %s is declared but no service uses it", n)
		}
	}
	return out
}

// relTo names path relative to root when it lies there.
func relTo(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil && within(path, root) {
		return rel
	}
	return path
}

// scriptPathProblems checks that every absolute path in an entrypoint or
// command (also the value of a --flag=PATH) that lies in a bind mount of
// the repository exists: the scripts and config files services run.
func scriptPathProblems(p *types.Project, root string) []string {
	var out []string
	root, _ = filepath.Abs(root)
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		s := p.Services[name]
		for _, tok := range append(append([]string{}, s.Entrypoint...), s.Command...) {
			if i := strings.LastIndex(tok, "="); i >= 0 {
				tok = tok[i+1:]
			}
			if !strings.HasPrefix(tok, "/") {
				continue
			}
			m, ok := mountFor(s.Volumes, tok)
			if !ok || m.Type != types.VolumeTypeBind || !within(m.Source, root) {
				continue
			}
			src := filepath.Join(m.Source, strings.TrimPrefix(tok, m.Target))
			if _, err := os.Stat(src); err != nil {
				out = append(out, fmt.Sprintf("service %s runs %s, but its source %s does not exist", name, tok, relTo(root, src)))
			}
		}
	}
	return out
}

// mountFor returns the mount whose target holds path (the longest match).
func mountFor(mounts []types.ServiceVolumeConfig, path string) (types.ServiceVolumeConfig, bool) {
	var best types.ServiceVolumeConfig
	found := false
	for _, m := range mounts {
		if (path == m.Target || strings.HasPrefix(path, strings.TrimSuffix(m.Target, "/")+"/")) && len(m.Target) > len(best.Target) {
			best, found = m, true
		}
	}
	return best, found
}

// portProblems reports host ports published twice (on any addresses: a
// wildcard collides with all of them, and everything here is on loopback)
// and ports published beyond loopback.
func portProblems(p *types.Project) []string {
	var out []string
	owner := map[string]string{} // "port/proto" → service
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		for _, pt := range p.Services[name].Ports {
			if pt.Published == "" {
				continue // Docker picks the host port
			}
			if pt.HostIP != "127.0.0.1" {
				out = append(out, fmt.Sprintf("service %s publishes %s on %q: bind it to 127.0.0.1", name, pt.Published, pt.HostIP))
			}
			key := pt.Published + "/" + pt.Protocol
			if prev, ok := owner[key]; ok {
				out = append(out, fmt.Sprintf("host port %s is published by %s and by %s", key, prev, name))
				continue
			}
			owner[key] = name
		}
	}
	return out
}

func mustLoadCompose(t *testing.T) *types.Project {
	t.Helper()
	f, err := loadComposeFile(composePath)
	if err != nil {
		t.Fatalf("%s: %v", composePath, err)
	}
	return f
}

func TestComposeHasTheTopology(t *testing.T) {
	f := mustLoadCompose(t)
	for _, name := range []string{"certs", "roach-0", "roach-1", "roach-2", "roach-init", "lb", "kdc", "spire-server", "spire-agent", "vault", "prometheus", "grafana", "authbench"} {
		if _, ok := f.Services[name]; !ok {
			t.Errorf("service %s is missing", name)
		}
	}
	for _, name := range []string{"roach-0", "roach-1", "roach-2"} {
		s := f.Services[name]
		if !strings.HasPrefix(s.Image, "cockroachdb/cockroach:") {
			t.Errorf("%s: image %q, want the official cockroachdb/cockroach (the << merge may have been lost)", name, s.Image)
		}
		if cmd := strings.Join(s.Command, " "); !strings.Contains(cmd, "--certs-dir=") || strings.Contains(cmd, "--insecure") {
			t.Errorf("%s: command %q must run in secure mode with --certs-dir", name, cmd)
		}
		if envOf(s)["KRB5_KTNAME"] == "" {
			t.Errorf("%s: no KRB5_KTNAME: the GSSAPI acceptor would not find the keytab", name)
		}
	}
}

func TestComposeReferencesResolve(t *testing.T) {
	f := mustLoadCompose(t)
	for _, p := range referenceProblems(f, repoRoot) {
		t.Error(p)
	}
	for _, p := range scriptPathProblems(f, repoRoot) {
		t.Error(p)
	}
}

func TestComposePortsDoNotCollide(t *testing.T) {
	for _, p := range portProblems(mustLoadCompose(t)) {
		t.Error(p)
	}
}
