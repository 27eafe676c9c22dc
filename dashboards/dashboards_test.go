package dashboards

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCommittedDashboardsAreGenerated regenerates every dashboard and
// wants the committed JSON byte for byte, and no other dashboard file.
func TestCommittedDashboardsAreGenerated(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s: %v (run go generate ./dashboards)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("dashboards/%s differs from what the code builds (line %d): run go generate ./dashboards and commit the result", name, firstDiffLine(got, want))
		}
	}
	committed, _ := filepath.Glob("*.json")
	if !slices.Equal(committed, slices.Sorted(maps.Keys(files))) {
		t.Errorf("dashboards/ has %v, the code builds %v", committed, slices.Sorted(maps.Keys(files)))
	}
}

// firstDiffLine is the 1-based line where a and b first differ.
func firstDiffLine(a, b []byte) int {
	line := 1
	for i := 0; i < len(a) && i < len(b) && a[i] == b[i]; i++ {
		if a[i] == '\n' {
			line++
		}
	}
	return line
}
