package capacity

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseObjective(t *testing.T) {
	good := []struct {
		in      string
		latency []LatencyBound
		ratio   float64
		count   int64
	}{
		{"p99<=50ms,errors<=0.1%", []LatencyBound{{P99, 50 * time.Millisecond}}, 0.001, 0},
		{"p99<=200ms, errors<=1%", []LatencyBound{{P99, 200 * time.Millisecond}}, 0.01, 0},
		{"p50<=5ms,p95<=20ms,p999<=1s,max<=2s", []LatencyBound{{P50, 5 * time.Millisecond}, {P95, 20 * time.Millisecond}, {P999, time.Second}, {Max, 2 * time.Second}}, 0, 0},
		{"P99.9<=300ms", []LatencyBound{{P999, 300 * time.Millisecond}}, 0, 0},
		{"errors<=5", nil, 0, 5},
		{"p99<=500ms", []LatencyBound{{P99, 500 * time.Millisecond}}, 0, 0},
	}
	for _, g := range good {
		o, err := ParseObjective(g.in)
		if err != nil {
			t.Errorf("%q: %v", g.in, err)
			continue
		}
		if len(o.Latency) != len(g.latency) || o.ErrorRatio != g.ratio || o.MaxErrors != g.count {
			t.Errorf("%q parsed as %+v", g.in, o)
		}
		for i := range g.latency {
			if o.Latency[i] != g.latency[i] {
				t.Errorf("%q clause %d: %v, want %v", g.in, i, o.Latency[i], g.latency[i])
			}
		}
	}
	bad := map[string]string{
		"":                "empty",
		"p99":             "NAME<=VALUE",
		"p99<50ms":        "NAME<=VALUE",
		"p98<=50ms":       `unknown statistic "p98"`,
		"p99<=fast":       "not a duration",
		"p99<=0ms":        "above zero",
		"p99<=-5ms":       "above zero",
		"errors<=0%":      "above zero",
		"errors<=0":       "above zero",
		"errors<=100%":    "percentage below 100%",
		"errors<=lots":    "neither a percentage",
		"p99<=1s,p99<=2s": "bounded twice",
	}
	for in, want := range bad {
		_, err := ParseObjective(in)
		var oe *ObjectiveError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "p99<=50ms,errors<=0.1%") {
			t.Errorf("%q: error %v, want an ObjectiveError about %q with an example", in, err, want)
		}
	}
}
