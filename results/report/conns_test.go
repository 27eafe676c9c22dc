package report

import (
	"strings"
	"testing"
)

func TestReportDrawsConnectionsUnderThroughputWithRotations(t *testing.T) {
	root := matrix(t)
	page := render(t, root)
	cs := charts(t, page)
	for _, id := range []string{"connects-0", "open-conns-0"} {
		c := cs[id]
		if c == nil {
			t.Fatalf("chart %s missing; have %v", id, keys(cs))
		}
		if len(c.find("path", "series")) == 0 {
			t.Errorf("%s has no series", id)
		}
		// bank-cert (run 0) has one rotation: marked on every chart of it.
		if n := len(c.find("g", "rotation")); n != 1 {
			t.Errorf("%s marks %d rotations, want 1", id, n)
		}
	}
	if strings.Index(page, `id="throughput-0"`) > strings.Index(page, `id="connects-0"`) {
		t.Error("the connections chart comes before the throughput chart")
	}
	runs, err := Load([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	got := StormCharts(runs[0])
	if len(got) != 3 || got[1].Name != "connects" || !strings.HasPrefix(got[1].SVG, "<?xml") {
		t.Fatalf("StormCharts: %d charts (%v), want throughput, connects, open-connections as SVG files", len(got), got)
	}
	parseXML(t, strings.SplitN(got[2].SVG, "\n", 2)[1])
}
