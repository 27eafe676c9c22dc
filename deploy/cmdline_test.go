package deploy

// Every authbench command line in the compose file and the Kubernetes
// manifests must parse with the real binary's flags. The binary is run
// with each line, offline, pointed at a closed loopback port: a line that
// parses fails at run time (exit 1, cannot connect); a usage error is
// exit 2. Nothing is changed in the CLI for this.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/stack/stacktest"
	"github.com/compose-spec/compose-go/v2/types"
)

// commandTimeout bounds one offline run; a line that parses fails fast.
const commandTimeout = 60 * time.Second

// cmdLine is one authbench invocation found in a deployment file.
type cmdLine struct {
	where string
	args  []string
	env   map[string]string
	// scratch are directories the container writes (volumes, emptyDirs):
	// the test maps them to temporary directories.
	scratch []string
}

// placeholders are filled in by the user before applying a manifest.
var placeholders = map[string]func() string{
	"__START_AT__": func() string { return time.Now().Add(time.Hour).UTC().Format(time.RFC3339) },
}

var rePlaceholderName = regexp.MustCompile(`__[A-Z][A-Z0-9_]*__`)

func fillPlaceholders(s string) string {
	return rePlaceholderName.ReplaceAllStringFunc(s, func(m string) string {
		if f, ok := placeholders[m]; ok {
			return f()
		}
		return m
	})
}

// composeLines returns the command lines of the services that run the
// authbench image (its ENTRYPOINT is authbench) or call authbench.
func composeLines(t *testing.T) []cmdLine {
	t.Helper()
	if df := readFile(t, "compose/Dockerfile"); !strings.Contains(df, `ENTRYPOINT ["authbench"]`) {
		t.Fatal(`compose/Dockerfile no longer has ENTRYPOINT ["authbench"]: update composeLines`)
	}
	f := mustLoadCompose(t)
	var out []cmdLine
	for _, name := range slices.Sorted(maps.Keys(f.Services)) {
		s := f.Services[name]
		var args []string
		switch {
		case len(s.Entrypoint) == 0 && s.Build != nil && s.Build.Dockerfile == "deploy/compose/Dockerfile":
			args = s.Command
		case len(s.Entrypoint) > 0 && s.Entrypoint[0] == "authbench":
			args = append(append([]string{}, s.Entrypoint[1:]...), s.Command...)
		case len(s.Entrypoint) == 0 && len(s.Command) > 0 && s.Command[0] == "authbench":
			args = s.Command[1:]
		default:
			continue
		}
		var scratch []string
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume {
				scratch = append(scratch, v.Target)
			}
		}
		out = append(out, cmdLine{where: "compose service " + name, args: args, env: envOf(s), scratch: scratch})
	}
	return out
}

// k8sLines returns the authbench containers' command lines, expanded as
// the kubelet would.
func k8sLines(t *testing.T) []cmdLine {
	t.Helper()
	objs := mustLoadK8s(t)
	var out []cmdLine
	for _, o := range objs {
		if o.job == nil {
			continue
		}
		pod := o.job.Spec.Template.Spec
		emptyDirs := map[string]bool{}
		for _, v := range pod.Volumes {
			emptyDirs[v.Name] = v.EmptyDir != nil
		}
		for _, c := range pod.Containers {
			if len(c.Command) == 0 || c.Command[0] != "authbench" {
				continue
			}
			env := containerEnv(c, objs)
			var args, scratch []string
			for _, a := range append(append([]string{}, c.Command[1:]...), c.Args...) {
				a, _ = expandK8s(a, env)
				args = append(args, a)
			}
			for _, m := range c.VolumeMounts {
				if emptyDirs[m.Name] {
					scratch = append(scratch, m.MountPath)
				}
			}
			out = append(out, cmdLine{where: fmt.Sprintf("k8s %s container %s", o.file, c.Name), args: args, env: env, scratch: scratch})
		}
	}
	return out
}

func TestComposeCommandLinesParse(t *testing.T) {
	lines := composeLines(t)
	var cmds []string
	for _, l := range lines {
		cmds = append(cmds, l.args[0])
	}
	sort.Strings(cmds)
	if got := strings.Join(cmds, ","); !strings.Contains(got, "init") || !strings.Contains(got, "matrix") {
		t.Fatalf("authbench commands in compose: %s; want the loaders (init) and the benchmark (matrix)", got)
	}
	runLines(t, withMatrixRuns(t, lines))
}

func TestK8sCommandLinesParse(t *testing.T) {
	lines := k8sLines(t)
	if len(lines) < 2 {
		t.Fatalf("found %d authbench containers in deploy/k8s, want the init Job's and the drivers'", len(lines))
	}
	runLines(t, withMatrixRuns(t, lines))
}

// runLines runs every line in parallel (skipped with -short).
func runLines(t *testing.T, lines []cmdLine) {
	t.Helper()
	for _, l := range lines {
		for _, a := range l.args {
			if m := rePlaceholderName.FindString(fillPlaceholders(a)); m != "" {
				t.Errorf("%s: placeholder %s has no test value (add it to placeholders)", l.where, m)
			}
		}
	}
	if testing.Short() {
		t.Skip("runs the authbench binary")
	}
	exe := stacktest.Exe(t)
	fx := newOfflineFixture(t)
	for _, l := range lines {
		t.Run(l.where, func(t *testing.T) {
			t.Parallel()
			code, stderr := fx.run(t, exe, l)
			if code == 2 {
				t.Errorf("`authbench %s` is a usage error (exit 2): %s", strings.Join(l.args, " "), stderr)
				return
			}
			t.Logf("exit %d (expected offline): %s", code, firstLine(stderr))
		})
	}
}

// offlineFixture points a run nowhere: a closed port, a CA that signs
// nothing the run meets, a KDC and a Vault on the closed port.
type offlineFixture struct {
	dir, port, ca, krb5 string
}

func newOfflineFixture(t *testing.T) *offlineFixture {
	t.Helper()
	fx := &offlineFixture{dir: t.TempDir()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, fx.port, _ = net.SplitHostPort(l.Addr().String())
	l.Close()
	fx.ca = filepath.Join(fx.dir, "ca.crt")
	writeCA(t, fx.ca)
	fx.krb5 = filepath.Join(fx.dir, "krb5.conf")
	krb5 := fmt.Sprintf("[libdefaults]\n  default_realm = EXAMPLE.COM\n  udp_preference_limit = 1\n[realms]\n  EXAMPLE.COM = {\n    kdc = 127.0.0.1:%s\n  }\n", fx.port)
	if err := os.WriteFile(fx.krb5, []byte(krb5), 0o644); err != nil {
		t.Fatal(err)
	}
	return fx
}

// run runs one line and returns its exit code and stderr.
func (fx *offlineFixture) run(t *testing.T, exe string, l cmdLine) (int, string) {
	work := t.TempDir()
	args := make([]string, len(l.args))
	for i, a := range l.args {
		args[i] = mapScratch(fillPlaceholders(a), l.scratch, work)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work}
	for k, v := range l.env {
		env = append(env, k+"="+fillPlaceholders(v))
	}
	env = append(env, // later entries win
		"AUTHBENCH_HOST=127.0.0.1", "AUTHBENCH_PORT="+fx.port, "AUTHBENCH_CA="+fx.ca,
		"KRB5_CONFIG="+fx.krb5, "VAULT_ADDR=http://127.0.0.1:"+fx.port,
		"SPIFFE_ENDPOINT_SOCKET=unix://"+filepath.Join(work, "no-agent.sock"))
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir, cmd.Env = work, env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("`authbench %s` did not finish within %s offline (nothing listens on port %s): %s",
			strings.Join(args, " "), commandTimeout, fx.port, stderr.String())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// mapScratch moves a path under a container's writable mount into work,
// so that a run never writes to this machine's /results.
func mapScratch(arg string, scratch []string, work string) string {
	for _, dir := range scratch {
		for _, sep := range []string{"=", ""} {
			prefix := ""
			rest := arg
			if sep != "" {
				p, v, ok := strings.Cut(arg, sep)
				if !ok {
					continue
				}
				prefix, rest = p+sep, v
			}
			if rest == dir || strings.HasPrefix(rest, dir+"/") {
				return prefix + filepath.Join(work, "mnt", rest)
			}
		}
	}
	return arg
}

// writeCA writes a self-signed CA certificate, so that --ca parses.
func writeCA(t *testing.T, path string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "deploy test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
