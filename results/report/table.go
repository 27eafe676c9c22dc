package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/authbench/authbench/results"
)

// Row is one line of the summary table: one op of one run.
type Row struct {
	Run, Op                      string
	OpsPerSec, P50, P95, P99     float64
	Retries, RetriedTxns, Errors int64
	Connections                  int64
	AvgConnectMs, WorstDip       float64 // WorstDip: lowest rotation dip, 1 without rotations
	Rotations                    int
}

// Columns are the summary table's headings, in Row order.
var Columns = []string{"run", "op", "ops/s", "p50 ms", "p95 ms", "p99 ms", "retries", "retried txns", "failed", "connections", "avg connect ms", "rotations", "worst dip"}

// Rows returns the summary table: per run one row per op, and a __total
// row when a run has several ops.
func Rows(runs []Run) []Row {
	var rows []Row
	for _, r := range runs {
		s := r.Summary
		ops := s.Ops
		if len(ops) > 1 && s.Total.Op != "" {
			ops = append(append([]results.OpSummary{}, ops...), s.Total)
		}
		dip := 1.0
		for _, ri := range s.Rotations {
			dip = math.Min(dip, ri.Dip)
		}
		for _, o := range ops {
			rows = append(rows, Row{
				Run: r.Label, Op: o.Op, OpsPerSec: o.OpsPerSec, P50: o.Latency.P50, P95: o.Latency.P95, P99: o.Latency.P99,
				Retries: o.Retries, RetriedTxns: o.RetriedTxns, Errors: o.Errors,
				Connections: s.Connections.Opened, AvgConnectMs: s.Connections.AvgConnectMs,
				Rotations: len(s.Rotations), WorstDip: dip,
			})
		}
	}
	return rows
}

// cells formats a row for display.
func (r Row) cells() []string {
	dip := "-"
	if r.Rotations > 0 {
		dip = fmt.Sprintf("%.2f", r.WorstDip)
	}
	return []string{
		r.Run, r.Op, fmt.Sprintf("%.1f", r.OpsPerSec), ms(r.P50), ms(r.P95), ms(r.P99),
		fmt.Sprint(r.Retries), fmt.Sprint(r.RetriedTxns), fmt.Sprint(r.Errors),
		fmt.Sprint(r.Connections), ms(r.AvgConnectMs), fmt.Sprint(r.Rotations), dip,
	}
}

func ms(v float64) string { return fmt.Sprintf("%.2f", v) }

// Markdown renders rows as a Markdown table, ready to paste into a ticket.
func Markdown(rows []Row) string {
	var b strings.Builder
	mdRow(&b, Columns)
	sep := make([]string, len(Columns))
	for i := range sep {
		sep[i] = "---"
		if i >= 2 {
			sep[i] = "---:"
		}
	}
	mdRow(&b, sep)
	for _, r := range rows {
		mdRow(&b, r.cells())
	}
	return b.String()
}

func mdRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
	}
	b.WriteString("\n")
}

// handshakeRow is one run's handshake phases for the phase table.
type handshakeRow struct {
	Run    string
	Phases []string // "p50 / p99" per phase, "-" when not recorded
}

// handshakeTable returns the phase names and one row per run with phases.
func handshakeTable(runs []Run) ([]string, []handshakeRow) {
	all := map[string]bool{}
	for _, r := range runs {
		for n := range r.Summary.Handshake {
			all[n] = true
		}
	}
	phases := results.PhaseOrder(all)
	var rows []handshakeRow
	for _, r := range runs {
		if len(r.Summary.Handshake) == 0 {
			continue
		}
		hr := handshakeRow{Run: r.Label}
		for _, ph := range phases {
			cell := "-"
			if p, ok := r.Summary.Handshake[ph]; ok {
				cell = ms(p.P50) + " / " + ms(p.P99)
			}
			hr.Phases = append(hr.Phases, cell)
		}
		rows = append(rows, hr)
	}
	return phases, rows
}
