package capacity

import (
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	o, _ := ParseObjective("p99<=50ms,errors<=1%")
	ok := Measurement{Offered: 100, Achieved: 99, Latency: Latency{P50: 5, P99: 20}, Service: Latency{P99: 20}, Total: 1000, Workers: 8, MeanServiceMs: 5}
	cases := []struct {
		name string
		edit func(m *Measurement)
		want Outcome
		why  string
	}{
		{"within", func(*Measurement) {}, Pass, "within p99<=50ms,errors<=1%"},
		{"slow", func(m *Measurement) { m.Latency.P99, m.Service.P99 = 80, 80 }, Fail, "p99 80.0ms > 50ms"},
		{"errors", func(m *Measurement) { m.Errors = 20 }, Fail, "errors 2% > 1%"},
		{"both", func(m *Measurement) { m.Errors, m.Latency.P99, m.Service.P99 = 20, 80, 80 }, Fail, "p99 80.0ms > 50ms; errors 2% > 1%"},
		{"short but within", func(m *Measurement) { m.Achieved = 80 }, NotOffered, "achieved 80.0 of 100/s offered"},
		{"within but workers busy", func(m *Measurement) { m.MeanServiceMs = 75 }, NotOffered, "all 8 workers 93% busy"},
		{"workers busy", func(m *Measurement) { m.Achieved, m.Latency.P99, m.MeanServiceMs = 80, 300, 95 }, NotOffered, "all 8 workers busy"},
		{"database slow and workers busy", func(m *Measurement) { m.Achieved, m.Latency.P99, m.Service.P99, m.MeanServiceMs = 80, 300, 90, 95 }, Fail, "p99 300ms > 50ms"},
		{"ended early", func(m *Measurement) { m.Early = "p99 above 5× 50ms for 3 s" }, Lost, "p99 above"},
		{"nothing completed", func(m *Measurement) { m.Total = 0 }, Fail, "no transaction completed"},
	}
	for _, c := range cases {
		m := ok
		c.edit(&m)
		v := Judge(o, m)
		if v.Outcome != c.want || !strings.Contains(v.Why, c.why) {
			t.Errorf("%s: %+v, want %s saying %q", c.name, v, c.want, c.why)
		}
	}
	abs, _ := ParseObjective("errors<=5")
	if v := Judge(abs, Measurement{Offered: 10, Achieved: 10, Errors: 6, Total: 100}); v.Outcome != Fail || v.Why != "errors 6 > 5" {
		t.Errorf("absolute budget: %+v", v)
	}
	if v := Judge(abs, Measurement{Offered: 10, Achieved: 10, Errors: 5, Total: 100}); v.Outcome != Pass {
		t.Errorf("absolute budget met: %+v", v)
	}
}
