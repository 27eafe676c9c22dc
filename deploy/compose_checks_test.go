package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The loader and our checks, on compose files broken on purpose.

func wantProblems(t *testing.T, got []string, want ...string) {
	t.Helper()
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("no problem mentions %q; got:\n%s", w, all)
		}
	}
}

// TestComposeLoaderRejectsBrokenFiles feeds compose-go one mistake at a
// time: a misspelled field, an unknown condition, and references that do
// not resolve. Each must be an error naming the culprit.
func TestComposeLoaderRejectsBrokenFiles(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"misspelled service field", `
services:
  a:
    image: busybox
    enviroment: {X: "1"}
`, "enviroment"},
		{"misspelled field in a merged anchor", `
x-base: &base
  image: busybox
  helthcheck: {test: ["CMD", "true"]}
services:
  a:
    <<: *base
`, "helthcheck"},
		{"misspelled top-level key", `
services:
  a: {image: busybox}
volume:
  data: {}
`, "volume"},
		{"unknown depends_on condition", `
services:
  a: {image: busybox}
  b:
    image: busybox
    depends_on:
      a: {condition: service_done}
`, "condition"},
		{"unknown service in depends_on", `
services:
  a:
    image: busybox
    depends_on: [ghost]
`, "ghost"},
		{"undeclared network", `
services:
  a: {image: busybox, networks: [nowhere]}
`, "nowhere"},
		{"undeclared volume", `
services:
  a: {image: busybox, volumes: ["undeclared:/data"]}
`, "undeclared"},
		{"undeclared config", `
services:
  a: {image: busybox, configs: [nocfg]}
`, "nocfg"},
		{"depends_on cycle", `
services:
  a: {image: busybox, depends_on: [b]}
  b: {image: busybox, depends_on: [a]}
`, "cycle"},
		{"neither image nor build", `
services:
  a: {command: ["true"]}
`, "neither an image nor a build"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseCompose(c.yaml, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("loader error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestReferenceChecksCatchBrokenCompose(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"present.cfg", "app/present.conf"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := parseCompose(`
x-base: &base
  image: busybox
services:
  a:
    <<: *base
    depends_on: [b]
    volumes:
      - data:/data
      - ./missing.cfg:/etc/missing.cfg:ro
      - ./present.cfg:/etc/present.cfg:ro
      - /etc/passwd:/etc/passwd:ro
  b:
    build: {context: ./nodir}
  c:
    image: busybox
    depends_on:
      a: {condition: service_healthy}
    entrypoint: ["/bin/sh", "/scripts/run.sh", "--config=/etc/present.cfg", "--other=/etc/app/missing.conf"]
    volumes:
      - ./scripts:/scripts:ro
      - ./present.cfg:/etc/present.cfg:ro
      - ./app:/etc/app:ro
configs:
  gone: {file: ./gone.cfg}
volumes:
  data: {}
  unused: {}
networks:
  idle: {}
`, dir)
	if err != nil {
		t.Fatal(err)
	}
	if f.Services["a"].Image != "busybox" {
		t.Fatalf("merge key not applied: service a has image %q", f.Services["a"].Image)
	}
	got := referenceProblems(f, dir)
	wantProblems(t, got,
		"bind-mount source missing.cfg does not exist",
		"bind-mounts host path /etc/passwd",
		"b: build context nodir does not exist",
		"b: Dockerfile nodir/Dockerfile does not exist",
		"c waits for a to be healthy, but a has no healthcheck",
		"config gone: file gone.cfg does not exist",
		"volume unused is declared but no service mounts it",
		"network idle is declared but no service uses it",
	)
	for _, p := range got {
		if strings.Contains(p, "present") {
			t.Errorf("an existing bind source was reported: %s", p)
		}
	}
	wantProblems(t, scriptPathProblems(f, dir), "runs /scripts/run.sh", "runs /etc/app/missing.conf")
	if ps := scriptPathProblems(f, dir); len(ps) != 2 {
		t.Errorf("want 2 script problems (present.cfg exists), got %q", ps)
	}
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
`, t.TempDir())
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

func TestComposeDefaultsApply(t *testing.T) {
	f, err := parseCompose(`
services:
  a:
    image: busybox:${TAG:-1.37}
    environment: {X: "${X-v2}", Y: "${Y:-}"}
`, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if img, env := f.Services["a"].Image, envOf(f.Services["a"]); img != "busybox:1.37" || env["X"] != "v2" || env["Y"] != "" {
		t.Errorf("image %q, environment %v: want the file's own defaults", img, env)
	}
}

// TestComposeLoaderRejectsOurFileMisspelled loads our own compose file
// with one field misspelled at a time: the loader must refuse each copy,
// naming the field, where it accepts the file as committed.
func TestComposeLoaderRejectsOurFileMisspelled(t *testing.T) {
	ours := readFile(t, composePath)
	if _, err := parseCompose(ours, composeDirOf(t)); err != nil {
		t.Fatalf("%s as committed: %v", composePath, err)
	}
	for _, c := range []struct{ field, typo string }{
		{"    healthcheck:", "    helthcheck:"},
		{"    depends_on:", "    depends_no:"},
		{"    entrypoint:", "    entrypiont:"},
		{"      condition: service_healthy", "      conditon: service_healthy"},
		{"    cap_add:", "    capadd:"},
		{"  build:", "  Build:"},
	} {
		broken := strings.Replace(ours, c.field, c.typo, 1)
		if broken == ours {
			t.Fatalf("%q is no longer in %s: pick another field", c.field, composePath)
		}
		word := strings.TrimSuffix(strings.Fields(c.typo)[0], ":")
		if _, err := parseCompose(broken, composeDirOf(t)); err == nil || !strings.Contains(err.Error(), word) {
			t.Errorf("%s misspelled %s: loader error %v, want one naming it", c.field, word, err)
		}
	}
}

// composeDirOf is the absolute directory of our compose file.
func composeDirOf(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Dir(composePath))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
