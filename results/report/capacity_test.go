package report

import (
	"strings"
	"testing"

	"github.com/authbench/authbench/capacity"
	"github.com/authbench/authbench/results/report/reporttest"
)

// TestCapacityCharts renders a capacity directory: the result table, the
// latency-against-load chart with both percentiles of every mode and the
// objective as a line, and the achieved-against-offered chart.
func TestCapacityCharts(t *testing.T) {
	dir := t.TempDir()
	modes := []string{"cert", "password", "gssapi"}
	f, err := reporttest.Capacity(dir, modes, []float64{800, 450, 300}, "p99<=50ms,errors<=0.1%")
	if err != nil {
		t.Fatal(err)
	}
	page := render(t, dir)
	cs := charts(t, page)
	lat, ach := cs["capacity-latency-0"], cs["capacity-achieved-0"]
	if lat == nil || ach == nil {
		t.Fatalf("capacity charts missing; charts: %v", keys(cs))
	}
	for _, m := range modes {
		for _, p := range []string{"p50", "p99"} {
			if n := count(lat, "path", "series s-"+m+" "+p); n != 1 {
				t.Errorf("latency chart: %d %s %s lines, want 1", n, m, p)
			}
		}
		steps := len(f.Modes[indexOf(modes, m)].Steps)
		if n := count(lat, "circle", "point series s-"+m+" p99"); n != steps {
			t.Errorf("latency chart: %d %s p99 points, want one per step (%d)", n, m, steps)
		}
		if n := count(ach, "circle", "point series s-"+m); n != steps {
			t.Errorf("achieved chart: %d %s points, want %d", n, m, steps)
		}
	}
	if n := count(lat, "line", "objective s-p99"); n != 1 {
		t.Errorf("latency chart: %d objective lines, want 1", n)
	}
	if n := count(ach, "line", "diagonal"); n != 1 {
		t.Errorf("achieved chart: %d diagonals, want 1", n)
	}
	for _, want := range []string{"Capacity of bank (pool), objective p99&lt;=50ms,errors&lt;=0.1%", "first failing rate", "p99&lt;=50ms"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Every step is also a run of its own on the page.
	if n := strings.Count(page, `<section class="run"`); n != len(modes)+totalSteps(f) {
		t.Errorf("%d run sections, want the probes and every step (%d)", n, len(modes)+totalSteps(f))
	}
}

func totalSteps(f *capacity.File) int {
	n := 0
	for _, m := range f.Modes {
		n += len(m.Steps)
	}
	return n
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// count counts e's descendants named name that have every class in classes.
func count(e *element, name, classes string) int {
	n := 0
	for _, k := range e.find(name, "") {
		all := true
		for _, c := range strings.Fields(classes) {
			all = all && hasClass(k.attrs["class"], c)
		}
		if all {
			n++
		}
	}
	return n
}
