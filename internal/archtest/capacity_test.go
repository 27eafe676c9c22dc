package archtest

import (
	"strings"
	"testing"
)

// TestCapacitySearchIsPure: the capacity search (next step from past steps
// and the objective) depends on no other authbench package, so it can be
// tested against simulated systems alone; its runner works against any
// deployment, never the local stack.
func TestCapacitySearchIsPure(t *testing.T) {
	for _, d := range list(t, "Deps", "./capacity")["capacity"] {
		if strings.HasPrefix(d, module) {
			t.Errorf("capacity imports %s", strings.TrimPrefix(d, module))
		}
	}
	for _, d := range list(t, "Deps", "./capacity/runner")["capacity/runner"] {
		if d == module+"stack" || strings.HasPrefix(d, module+"stack/") {
			t.Errorf("capacity/runner imports %s", strings.TrimPrefix(d, module))
		}
	}
}
