package bench

import "fmt"

// Goal directions for a ratio authbench ÷ pgbench.
const (
	atLeast = ">="
	atMost  = "<="
)

// measure is one number compared between the tools.
type measure struct {
	name  string
	value func(sample) float64
	goal  string  // atLeast or atMost bound; "" = reported, no goal
	bound float64 // the goal's ratio; 0 means 1.0
	lower bool    // lower is better (said in the report when there is no goal)
}

// limit is the ratio the goal compares with.
func (m measure) limit() float64 {
	if m.bound == 0 {
		return 1
	}
	return m.bound
}

var (
	throughputMeasures = []measure{
		{name: "bank TPS", value: func(s sample) float64 { return s.TPS }, goal: atLeast},
		{name: "CPU µs per committed transaction", value: func(s sample) float64 { return s.CPUPerOpUs }, goal: atMost},
	}
	handshakeMeasures = []measure{
		{name: "connections per second", value: func(s sample) float64 { return s.TPS }, goal: atLeast},
		{name: "average connection time (ms)", value: func(s sample) float64 { return s.AvgConnMs }, lower: true},
		{name: "CPU µs per connection", value: func(s sample) float64 { return s.CPUPerOpUs }, lower: true},
	}
	openLoopMeasures = []measure{
		{name: "p99 latency (ms)", value: func(s sample) float64 { return s.P99Ms }, lower: true},
		{name: "achieved TPS", value: func(s sample) float64 { return s.TPS }},
		// The same rate for both: CPU per transaction without the
		// advantage that a higher closed-loop TPS gives.
		{name: "CPU µs per committed transaction", value: func(s sample) float64 { return s.CPUPerOpUs }, lower: true},
	}
)

// Row is one line of the report: a measure's median for each tool and the
// median and range of the per-repetition ratio authbench ÷ pgbench.
type Row struct {
	Section   string  `json:"section"`                   // e.g. "throughput"
	Measure   string  `json:"measure"`                   // e.g. "bank TPS"
	Auth      string  `json:"auth"`                      // the auth mode
	Pgbench   float64 `json:"pgbench_median"`            // pgbench's median over the repetitions
	Authbench float64 `json:"authbench_median"`          // authbench's median
	Ratio     spread  `json:"ratio"`                     // authbench ÷ pgbench per repetition
	Goal      string  `json:"goal,omitempty"`            // ">= 1.0", "<= 1.0"
	Met       *bool   `json:"met,omitempty"`             // nil without a goal
	Lower     bool    `json:"lower_is_better,omitempty"` // for measures without a goal
}

// rowsOf turns a pair's repetitions into one row per measure.
func rowsOf(section, auth string, runs []pairRun, ms []measure) []Row {
	var rows []Row
	for _, m := range ms {
		var pg, ab, rs []float64
		for _, r := range runs {
			p, a := m.value(r.Pgbench), m.value(r.Authbench)
			pg, ab, rs = append(pg, p), append(ab, a), append(rs, ratio(a, p))
		}
		row := Row{Section: section, Measure: m.name, Auth: auth,
			Pgbench: spreadOf(pg).Median, Authbench: spreadOf(ab).Median, Ratio: spreadOf(rs), Lower: m.lower}
		if m.goal != "" {
			row.Goal = fmt.Sprintf("%s %.1f", m.goal, m.limit())
		}
		if m.goal != "" && row.Ratio.N > 0 {
			met := m.goal == atLeast && row.Ratio.Median >= m.limit() || m.goal == atMost && row.Ratio.Median <= m.limit()
			row.Met = &met
		}
		rows = append(rows, row)
	}
	return rows
}
