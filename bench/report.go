package bench

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Report is everything one comparison produced; bench.json holds it and
// bench.md its Markdown.
type Report struct {
	Started  time.Time            `json:"started"`
	Ended    time.Time            `json:"ended"`
	Settings Settings             `json:"settings"`
	Machine  Machine              `json:"machine"`
	Versions map[string]string    `json:"versions"`
	Load     spread               `json:"load1"`       // 1-minute load average sampled before every run
	LoadPre  [3]float64           `json:"load_before"` // 1-, 5-, 15-minute load averages before the stack started
	Rates    map[string]float64   `json:"open_loop_rates"`
	Rows     []Row                `json:"rows"`
	Runs     map[string][]pairRun `json:"runs"` // by "<section>-<auth>"
}

// Settings are the knobs the comparison ran with.
type Settings struct {
	Clients           int     `json:"clients"`            // clients of both tools
	PgbenchThreads    int     `json:"pgbench_threads"`    // pgbench -j of the transfer runs
	Duration          string  `json:"duration"`           // each transfer run
	HandshakeDuration string  `json:"handshake_duration"` // each handshake run
	Reps              int     `json:"reps"`               // repetitions per pair
	Accounts          int     `json:"accounts"`           // bank size
	RateFraction      float64 `json:"rate_fraction"`      // open-loop rate ÷ measured maximum
	Rate              float64 `json:"rate,omitempty"`     // open-loop rate when set by hand
}

// loads returns every 1-minute load average sampled before a run.
func (r *Report) loads() []float64 {
	var out []float64
	for _, runs := range r.Runs {
		for _, p := range runs {
			out = append(out, p.Pgbench.Load1, p.Authbench.Load1)
		}
	}
	return out
}

// Markdown renders the table and what it was measured on.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# authbench vs pgbench, %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 MST"))
	s := r.Settings
	fmt.Fprintf(&b, "Same local stack (PostgreSQL behind HAProxy on loopback, TLS verify-full), same auth mode, %d clients "+
		"(pgbench -j %d; -C runs one thread per client), %s per transfer run, %s per handshake run, "+
		"bank of %d accounts (SERIALIZABLE, up to %d retries), %d repetitions per pair in alternating order. "+
		"Ratio = authbench ÷ pgbench per repetition: median, and min–max over the repetitions.\n\n",
		s.Clients, s.PgbenchThreads, s.Duration, s.HandshakeDuration, s.Accounts, maxRetries, s.Reps)
	b.WriteString("| section | measure | auth | pgbench | authbench | ratio (median) | ratio min–max | goal | met |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---|---|\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", row.Section, row.Measure, row.Auth,
			num(row.Pgbench), num(row.Authbench), ratioText(row.Ratio), rangeText(row.Ratio), goalText(row), metText(row))
	}
	b.WriteString("\n")
	r.writeContext(&b)
	return b.String()
}

func (r *Report) writeContext(b *strings.Builder) {
	m := r.Machine
	fmt.Fprintf(b, "- machine: %d CPUs, %s, %.1f GiB memory, Linux %s\n", m.CPUs, m.CPUModel, m.MemGiB, m.Kernel)
	fmt.Fprintf(b, "- load average before the comparison started (other work on the machine): %.2f, %.2f, %.2f (1, 5, 15 min)\n",
		r.LoadPre[0], r.LoadPre[1], r.LoadPre[2])
	fmt.Fprintf(b, "- load average (1 min) before each run, the comparison's own load included: median %.2f, min %.2f, max %.2f\n",
		r.Load.Median, r.Load.Min, r.Load.Max)
	if r.hasFloor() {
		b.WriteString("- floor rows: the authbench column holds the client the section names; pgconn and wire clients are bench/floor's " +
			"(pgconn with prepared statements; pre-encoded protocol bytes on the connection taken from pgconn), one goroutine per client\n")
	}
	for _, k := range []string{"pgbench", "server", "go"} {
		if v := r.Versions[k]; v != "" {
			fmt.Fprintf(b, "- %s: %s\n", k, v)
		}
	}
	for _, mode := range slices.Sorted(maps.Keys(r.Rates)) {
		how := fmt.Sprintf("%.0f %% of the smaller median TPS of the two", r.Settings.RateFraction*100)
		if r.Settings.Rate > 0 {
			how = "set with --rate"
		}
		fmt.Fprintf(b, "- open-loop rate (%s): %.1f transactions/s, %s\n", mode, r.Rates[mode], how)
	}
	fmt.Fprintf(b, "- started %s, took %s\n", r.Started.UTC().Format(time.RFC3339), r.Ended.Sub(r.Started).Round(time.Second))
}

func goalText(row Row) string {
	switch {
	case row.Goal != "":
		return strings.Replace(strings.Replace(row.Goal, ">=", "≥", 1), "<=", "≤", 1)
	case row.Lower:
		return "(lower is better)"
	}
	return ""
}

func metText(row Row) string {
	switch {
	case row.Met == nil:
		return ""
	case *row.Met:
		return "yes"
	}
	return "**no**"
}

// num prints a measured value with about four significant digits.
func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "n/a"
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 10:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// ratioText prints a ratio's median with two decimals.
func ratioText(s spread) string {
	if s.N == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", s.Median)
}

// rangeText prints a ratio's range, e.g. "0.97–1.04".
func rangeText(s spread) string {
	if s.N == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f–%.2f", s.Min, s.Max)
}

// hasFloor reports whether the report holds rows of the floor section.
func (r *Report) hasFloor() bool {
	return slices.ContainsFunc(r.Rows, func(row Row) bool { return strings.HasPrefix(row.Section, sectionFloor+":") })
}
