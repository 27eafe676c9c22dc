package capacity

import (
	"strings"
	"testing"
)

func secs(p99s ...float64) []Second {
	var out []Second
	for _, v := range p99s {
		out = append(out, Second{Count: 100, Latency: Latency{P50: v / 3, P95: v / 2, P99: v, Max: v * 2}})
	}
	return out
}

func TestIsLostLatency(t *testing.T) {
	o, _ := ParseObjective("p99<=50ms,errors<=1%")
	w := Window{Offered: 100, Seconds: 20}
	cases := []struct {
		name string
		s    []Second
		want string
	}{
		{"within", secs(10, 20, 30, 40), ""},
		{"over the objective but not 5×", secs(200, 240, 249, 249), ""},
		{"two seconds far over", secs(10, 300, 300, 10, 300), ""},
		{"three seconds far over", secs(10, 300, 260, 400), "p99 above 5× 50ms for 3 s"},
		{"stalled: nothing completed", []Second{{}, {}, {}}, "p99 above 5×"},
	}
	for _, c := range cases {
		if got := IsLost(o, w, c.s); (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := IsLost(o, Window{Offered: 2, Seconds: 20}, []Second{{}, {}, {}}); got != "" {
		t.Errorf("2 ops/s may well complete nothing in a second: %q", got)
	}
	p999, _ := ParseObjective("p999<=50ms")
	if got := IsLost(p999, w, secs(200, 200, 200)); got != "" { // p99 below 5×; p999 unknown
		t.Errorf("p999 judged by p99: %q", got)
	}
	max, _ := ParseObjective("max<=50ms")
	if got := IsLost(max, w, secs(200, 200, 200)); got == "" { // max = 400
		t.Errorf("max 400ms for 3 s not lost")
	}
}

func TestIsLostErrors(t *testing.T) {
	o, _ := ParseObjective("p99<=50ms,errors<=1%")
	w := Window{Offered: 100, Seconds: 20} // 2000 ops expected: the budget is 20 errors
	early := []Second{{Count: 50, Errors: 15, Latency: Latency{P99: 5}}}
	if got := IsLost(o, w, early); got != "" {
		t.Errorf("15 errors fit a 20-error budget still: %q", got)
	}
	worse := append(early, Second{Count: 50, Errors: 10, Latency: Latency{P99: 5}})
	if got := IsLost(o, w, worse); !strings.Contains(got, "above 10× the budget of 1%") {
		t.Errorf("25 errors in 125: %q", got)
	}
	abs, _ := ParseObjective("errors<=2")
	if got := IsLost(abs, w, []Second{{Count: 10, Errors: 20}}); got != "" {
		t.Errorf("20 errors is not above 10× 2: %q", got)
	}
	if got := IsLost(abs, w, []Second{{Count: 10, Errors: 21}}); !strings.Contains(got, "21 errors, above 10× the budget of 2") {
		t.Errorf("21 errors: %q", got)
	}
}
