package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/authbench/authbench/"

// list runs `go list -f '{{.ImportPath}}:{{join .<field> " "}}'` on the
// patterns and returns each package's Imports or Deps (test files aside).
func list(t *testing.T, field string, patterns ...string) map[string][]string {
	t.Helper()
	args := append([]string{"list", "-f", "{{.ImportPath}}:{{join ." + field + " \" \"}}"}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		pkgs[strings.TrimPrefix(pkg, module)] = strings.Fields(deps)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list %v listed no packages", patterns)
	}
	return pkgs
}

// TestClientsDoNotImportStack: the driver, the workloads and the auth modes
// work against any deployment; only tests, the CLI and the harnesses know
// the local stack.
func TestClientsDoNotImportStack(t *testing.T) {
	for pkg, deps := range list(t, "Deps", "./driver/...", "./workloads/...", "./authmodes/...") {
		for _, d := range deps {
			if d == module+"stack" || strings.HasPrefix(d, module+"stack/") {
				t.Errorf("%s imports %s (directly or through another package)", pkg, strings.TrimPrefix(d, module))
			}
		}
	}
}

// shared are the packages under stack/ every part of the stack may use:
// the core, its PKI library and the test harness.
var shared = map[string]bool{"stack": true, "stack/pki": true, "stack/stacktest": true}

// component returns the component a package under stack/ belongs to
// ("kdc" for stack/kdc and stack/kdc/...; "" for shared packages).
func component(pkg string) string {
	if shared[pkg] {
		return ""
	}
	c, _, _ := strings.Cut(strings.TrimPrefix(pkg, "stack/"), "/")
	return c
}

// TestComponentsAreIndependent: the stack's core imports no component, and
// no component imports another's packages: they meet only in the core
// (stack/all, which registers them all, is the one exception).
func TestComponentsAreIndependent(t *testing.T) {
	for pkg, imports := range list(t, "Imports", "./stack/...") {
		if pkg == "stack/all" {
			continue
		}
		for _, imp := range imports {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok || !strings.HasPrefix(dep, "stack") {
				continue
			}
			if c := component(dep); c != "" && c != component(pkg) {
				t.Errorf("%s imports %s: components meet only through the stack core", pkg, dep)
			}
		}
	}
}
