package doctor

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection checks the packages depend on each other one way
// only: the modes import doctor and fix, doctor imports no mode, the
// driver knows neither the modes nor the doctor (it asks errors whether
// they are credential failures), and fix imports nothing of authbench.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/authbench/authbench/"
	for pkg, banned := range map[string][]string{
		"driver":    {"authmodes", "doctor"},
		"authmodes": {"doctor", "authmodes/"},
		"doctor":    {"authmodes/"},
		"fix":       {""},
	} {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			rest, ok := strings.CutPrefix(dep, mod)
			if !ok || dep == mod+pkg {
				continue
			}
			for _, b := range banned {
				if within(rest, b) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}

// within reports whether package path p is banned by b: "" bans every
// package, "a/" the packages under a, "a" a itself and those under it.
func within(p, b string) bool {
	switch {
	case b == "":
		return true
	case strings.HasSuffix(b, "/"):
		return strings.HasPrefix(p, b)
	}
	return p == b || strings.HasPrefix(p, b+"/")
}
