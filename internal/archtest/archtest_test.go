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

// assemblers are the packages under stack/ that put components together:
// stack/all registers them all, stack/stacktest the base every stack has.
var assemblers = map[string]bool{"stack/all": true, "stack/stacktest": true}

// component returns the component a package under stack/ belongs to
// ("kdc" for stack/kdc and stack/kdc/...; "" for the core).
func component(pkg string) string {
	if pkg == "stack" {
		return ""
	}
	c, _, _ := strings.Cut(strings.TrimPrefix(pkg, "stack/"), "/")
	return c
}

// TestComponentsAreIndependent: the stack's core imports no package under
// stack/, and no component imports another's packages: they meet only in
// the core. Only the assemblers import several components.
func TestComponentsAreIndependent(t *testing.T) {
	for pkg, imports := range list(t, "Imports", "./stack/...") {
		if assemblers[pkg] {
			continue
		}
		for _, imp := range imports {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok || !strings.HasPrefix(dep, "stack") {
				continue
			}
			if dep == "stack" {
				continue
			}
			if pkg == "stack" || component(dep) != component(pkg) {
				t.Errorf("%s imports %s: components meet only through the stack core", pkg, dep)
			}
		}
	}
}
