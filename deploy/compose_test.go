package deploy

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	composeDir  = "compose"
	composePath = "compose/docker-compose.yml"
)

// hostPaths are the only bind-mount sources allowed outside the
// repository: the docker socket, for SPIRE's docker workload attestor.
var hostPaths = map[string]bool{"/var/run/docker.sock": true}

var dependsConditions = map[string]bool{"service_started": true, "service_healthy": true, "service_completed_successfully": true}

// referenceProblems lists every reference in f that does not resolve:
// services, networks, named volumes, configs and secrets, and every file
// or directory (bind mounts, build contexts, Dockerfiles, env files) that
// must exist relative to dir. Declared but unused volumes and networks,
// and depends_on cycles, count too.
func referenceProblems(f *composeFile, dir string) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	exists := func(what, rel string) {
		if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
			bad("%s %s does not exist (relative to %s)", what, rel, dir)
		}
	}
	usedVolumes, usedNetworks := map[string]bool{}, map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(f.Services)) {
		s := f.Services[name]
		if s.Image == "" && s.Build == nil {
			bad("service %s has neither image nor build", name)
		}
		if s.Build != nil {
			exists("service "+name+": build context", s.Build.Context)
			dockerfile := s.Build.Dockerfile
			if dockerfile == "" {
				dockerfile = "Dockerfile"
			}
			exists("service "+name+": Dockerfile", filepath.Join(s.Build.Context, dockerfile))
		}
		for dep, cond := range s.DependsOn {
			target, ok := f.Services[dep]
			switch {
			case !ok:
				bad("service %s depends on %s, which is not a service", name, dep)
			case !dependsConditions[cond]:
				bad("service %s depends on %s with unknown condition %q", name, dep, cond)
			case cond == "service_healthy" && target.Healthcheck == nil:
				bad("service %s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
		for _, n := range s.Networks {
			usedNetworks[n] = true
			if _, ok := f.Networks[n]; !ok && n != "default" {
				bad("service %s uses network %s, which is not declared", name, n)
			}
		}
		for _, v := range s.Volumes {
			switch {
			case v.Type == "bind" && strings.HasPrefix(v.Source, "/"):
				if !hostPaths[v.Source] {
					bad("service %s bind-mounts host path %s: only %v may come from outside the repository", name, v.Source, slices.Sorted(maps.Keys(hostPaths)))
				}
			case v.Type == "bind":
				exists("service "+name+": bind-mount source", v.Source)
			case v.Source != "":
				usedVolumes[v.Source] = true
				if _, ok := f.Volumes[v.Source]; !ok {
					bad("service %s mounts volume %s, which is not declared", name, v.Source)
				}
			}
		}
		for _, e := range s.EnvFile {
			exists("service "+name+": env_file", e)
		}
		for _, c := range s.Configs {
			if _, ok := f.Configs[c.Source]; !ok {
				bad("service %s uses config %s, which is not declared", name, c.Source)
			}
		}
		for _, c := range s.Secrets {
			if _, ok := f.Secrets[c.Source]; !ok {
				bad("service %s uses secret %s, which is not declared", name, c.Source)
			}
		}
	}
	for _, refs := range []map[string]fileRef{f.Configs, f.Secrets} {
		for name, r := range refs {
			if r.File != "" {
				exists("config/secret "+name+": file", r.File)
			}
		}
	}
	for _, v := range slices.Sorted(maps.Keys(f.Volumes)) {
		if !usedVolumes[v] {
			bad("volume %s is declared but no service mounts it", v)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(f.Networks)) {
		if !usedNetworks[n] {
			bad("network %s is declared but no service uses it", n)
		}
	}
	return append(out, cycleProblems(f)...)
}

// cycleProblems reports a depends_on cycle, which compose refuses.
func cycleProblems(f *composeFile) []string {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var out []string
	var visit func(name string, path []string)
	visit = func(name string, path []string) {
		switch state[name] {
		case visiting:
			out = append(out, "depends_on cycle: "+strings.Join(append(path, name), " → "))
			return
		case done:
			return
		}
		state[name] = visiting
		for _, dep := range slices.Sorted(maps.Keys(f.Services[name].DependsOn)) {
			visit(dep, append(path, name))
		}
		state[name] = done
	}
	for _, name := range slices.Sorted(maps.Keys(f.Services)) {
		visit(name, nil)
	}
	return out
}

// scriptPathProblems checks that every absolute path in an entrypoint or
// command (also the value of a --flag=PATH) that lies in a bind mount
// exists in the repository: the scripts and config files services run.
func scriptPathProblems(f *composeFile, dir string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(f.Services)) {
		s := f.Services[name]
		for _, tok := range append(append([]string{}, s.Entrypoint...), s.Command...) {
			if i := strings.LastIndex(tok, "="); i >= 0 {
				tok = tok[i+1:]
			}
			if !strings.HasPrefix(tok, "/") {
				continue
			}
			m, ok := mountFor(s.Volumes, tok)
			if !ok || m.Type != "bind" || strings.HasPrefix(m.Source, "/") {
				continue
			}
			src := filepath.Join(dir, m.Source, strings.TrimPrefix(tok, m.Target))
			if _, err := os.Stat(src); err != nil {
				out = append(out, fmt.Sprintf("service %s runs %s, but its source %s does not exist", name, tok, src))
			}
		}
	}
	return out
}

// mountFor returns the mount whose target holds path (the longest match).
func mountFor(mounts []volumeMount, path string) (volumeMount, bool) {
	var best volumeMount
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
func portProblems(f *composeFile) []string {
	var out []string
	owner := map[string]string{} // "port/proto" → "service ip"
	for _, name := range slices.Sorted(maps.Keys(f.Services)) {
		for _, p := range f.Services[name].Ports {
			if p.PublishedUnassigned {
				continue
			}
			if p.HostIP != "127.0.0.1" {
				out = append(out, fmt.Sprintf("service %s publishes %d on %q: bind it to 127.0.0.1", name, p.Published, p.HostIP))
			}
			key := fmt.Sprintf("%d/%s", p.Published, p.Protocol)
			if prev, ok := owner[key]; ok {
				out = append(out, fmt.Sprintf("host port %s is published by %s and by %s", key, prev, name))
				continue
			}
			owner[key] = name
		}
	}
	return out
}

func mustLoadCompose(t *testing.T) *composeFile {
	t.Helper()
	f, err := loadCompose(composePath)
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
		if s.Environment["KRB5_KTNAME"] == "" {
			t.Errorf("%s: no KRB5_KTNAME: the GSSAPI acceptor would not find the keytab", name)
		}
	}
}

func TestComposeReferencesResolve(t *testing.T) {
	f := mustLoadCompose(t)
	for _, p := range referenceProblems(f, composeDir) {
		t.Error(p)
	}
	for _, p := range scriptPathProblems(f, composeDir) {
		t.Error(p)
	}
}

func TestComposePortsDoNotCollide(t *testing.T) {
	for _, p := range portProblems(mustLoadCompose(t)) {
		t.Error(p)
	}
}
