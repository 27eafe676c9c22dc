package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The checks themselves, on compose files broken on purpose.

func wantProblems(t *testing.T, got []string, want ...string) {
	t.Helper()
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("no problem mentions %q; got:\n%s", w, all)
		}
	}
}

func TestReferenceChecksCatchBrokenCompose(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "present.cfg"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := parseCompose(`
x-base: &base
  image: busybox
services:
  a:
    <<: *base
    depends_on: [ghost, b]
    networks: [nowhere]
    volumes:
      - undeclared:/data
      - ./missing.cfg:/etc/missing.cfg:ro
      - ./present.cfg:/etc/present.cfg:ro
      - /etc/passwd:/etc/passwd:ro
    env_file: [./missing.env]
    configs: [nocfg]
  b:
    build: {context: ./nodir}
    depends_on:
      a: {condition: service_healthy}
      c: {condition: service_done}
  c:
    image: busybox
    entrypoint: ["/bin/sh", "/scripts/run.sh", "--config=/etc/present.cfg", "--other=/etc/app/missing.conf"]
    volumes:
      - ./scripts:/scripts:ro
      - ./present.cfg:/etc/app/present.conf:ro
      - ./app:/etc/app:ro
volumes:
  unused: {}
`)
	if err != nil {
		t.Fatal(err)
	}
	if f.Services["a"].Image != "busybox" {
		t.Fatalf("merge key not applied: service a has image %q", f.Services["a"].Image)
	}
	wantProblems(t, referenceProblems(f, dir),
		"a depends on ghost, which is not a service",
		"a uses network nowhere, which is not declared",
		"a mounts volume undeclared, which is not declared",
		"bind-mount source ./missing.cfg does not exist",
		"bind-mounts host path /etc/passwd",
		"env_file ./missing.env does not exist",
		"a uses config nocfg, which is not declared",
		"b: build context ./nodir does not exist",
		"b waits for a to be healthy, but a has no healthcheck",
		`b depends on c with unknown condition "service_done"`,
		"volume unused is declared but no service mounts it",
		"depends_on cycle: a → b → a",
	)
	for _, p := range referenceProblems(f, dir) {
		if strings.Contains(p, "present.cfg") {
			t.Errorf("an existing bind source was reported: %s", p)
		}
	}
	wantProblems(t, scriptPathProblems(f, dir), "runs /scripts/run.sh", "runs /etc/app/missing.conf")
}

func TestPortChecksCatchCollisionsAndWildcards(t *testing.T) {
	f, err := parseCompose(`
services:
  a:
    image: busybox
    ports: ["127.0.0.1:8080:80", "127.0.0.1:53:53/udp", "9000"]
  b:
    image: busybox
    ports: ["127.0.0.1:8080:8080", "127.0.0.1:53:53/tcp"]
  c:
    image: busybox
    ports:
      - "3000:3000"
      - {target: 80, published: "8080", host_ip: 0.0.0.0}
`)
	if err != nil {
		t.Fatal(err)
	}
	got := portProblems(f)
	wantProblems(t, got,
		"host port 8080/tcp is published by a and by b",
		"host port 8080/tcp is published by a and by c",
		`service c publishes 3000 on "": bind it to 127.0.0.1`,
		`service c publishes 8080 on "0.0.0.0"`,
	)
	if len(got) != 4 {
		t.Errorf("want 4 problems (53/udp and 53/tcp differ, 9000 is unpublished), got %d:\n%s", len(got), strings.Join(got, "\n"))
	}
}

func TestInterpolateUsesDefaults(t *testing.T) {
	got := interpolate("a ${X:-v1} ${Y-v2} ${Z} ${X}", map[string]string{"Z": "z"})
	if got != "a v1 v2 z " {
		t.Errorf("interpolate = %q", got)
	}
}
