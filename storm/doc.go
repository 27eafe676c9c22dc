package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/results/report"
)

// row is one run of the experiment: one mode, one rotation style.
type row struct {
	mode, style, slug, dir string
	rot                    results.RotationImpact
	failed, connFailed     int64
	opened                 int64
	found                  bool // the run has a forced rotation row
	started, ended         time.Time
}

// readRow reads a run's summary into its row: the forced rotation's storm
// columns and the run's failed transactions.
func readRow(dir, mode, style, slug string) (row, error) {
	s, err := results.ReadSummary(dir)
	if err != nil {
		return row{}, err
	}
	r := row{mode: mode, style: style, slug: slug, dir: dir, failed: s.Total.Errors, opened: s.Connections.Opened,
		connFailed: s.Connections.Failed,
		started:    s.StartedAt, ended: s.EndedAt}
	for _, ri := range s.Rotations {
		if ri.Kind == results.ForcedRotation {
			r.rot, r.found = ri, true
			break
		}
	}
	return r, nil
}

// table renders the rows as the document's Markdown table.
func table(rows []row) string {
	var b strings.Builder
	b.WriteString("| mode | rotation | peak connects/s | failed connects | handshake p99 (ms) | txn p99 in window (ms) | failed txns | back to 90 % throughput | instances rotated in window |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		if !r.found {
			fmt.Fprintf(&b, "| %s | %s | no forced rotation recorded | | | %d | | |\n", r.mode, r.style, r.failed)
			continue
		}
		rec := "never"
		if r.rot.RecoveryS >= 0 {
			rec = fmt.Sprintf("%.0f s", r.rot.RecoveryS)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %.0f | %.0f | %d | %s | %.0f %% |\n",
			r.mode, r.style, r.rot.PeakConnectsS, r.connFailed, r.rot.HandshakeP99, r.rot.TxnP99, r.failed, rec, 100*r.rot.InstancesShare)
	}
	return b.String()
}

// findings compares, per mode, the synchronised run with the spread one,
// in the figures measured.
func findings(rows []row) []string {
	var out []string
	for i := 0; i+1 < len(rows); i += 2 {
		s, p := rows[i], rows[i+1]
		if !s.found || !p.found || s.mode != p.mode {
			continue
		}
		out = append(out, fmt.Sprintf("- **%s**: the %s rotation peaked at %d connects/s with handshake p99 %.0f ms; %s, %d connects/s and %.0f ms.",
			s.mode, s.style, s.rot.PeakConnectsS, s.rot.HandshakeP99, p.style, p.rot.PeakConnectsS, p.rot.HandshakeP99))
	}
	return out
}

// writeDoc writes the document and, in the directory of the same name,
// every run's charts.
func writeDoc(o *options, rows []row, machine string) error {
	imgDir := strings.TrimSuffix(o.doc, filepath.Ext(o.doc))
	if err := os.MkdirAll(imgDir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Rotation storms\n\n")
	fmt.Fprintf(&b, "Written by `make storm` (the program in `storm/`) from the runs it made; rerun it to measure your machine.\n\n")
	fmt.Fprintf(&b, "A fleet of %d application instances × %d connections (%d connections, each instance with its own credentials: "+
		"its own Vault login and lease, Kerberos login, certificate reload) runs the bank workload at a steady %d transactions/s "+
		"(open loop, %d workers) on the local stack (`stack up --max-connections %d`). After %s one forced rotation reaches every instance: "+
		"**synchronised** (`--rotate-spread 0`, every instance at once: the storm) or **spread** uniformly over %s (`--rotate-spread %s`). "+
		"vault and gssapi instances renew their own credentials; for cert the stack's CA issues the new certificate once and each instance "+
		"reloads it, recycling its pool, at its moment. vault runs with `--vault-retire-jitter 0s`, so that the fleet's spread is the only one.\n\n",
		o.instances, o.poolSize, o.instances*o.poolSize, o.maxRate, o.concurrency, o.instances*o.poolSize+100, o.baseline, o.spread, o.spread)
	if len(rows) > 0 {
		fmt.Fprintf(&b, "Measured from %s to %s UTC. ", rows[0].started.UTC().Format("2006-01-02 15:04"), rows[len(rows)-1].ended.UTC().Format("15:04"))
	}
	fmt.Fprintf(&b, "Machine: %s.\n\n", machine)
	b.WriteString("The rotation's window is the 10 s after it. Peak connects/s: the most connections opened in one second of the window; " +
		"handshake p99 and txn p99: the worst per-second p99 in the window; failed connects and failed txns: over the whole run " +
		"(its one rotation is the only cause of reconnects); back to 90 %: from the rotation " +
		"to the first second at 90 % of the median throughput of the 30 s before (0 s: it never fell below); instances rotated: the share " +
		"whose part of the rotation was done by the window's end. Connects are handshakes completed: when the machine saturates, a " +
		"synchronised storm is capped in height and shows instead as failed connects (attempts that timed out after 10 s), a higher " +
		"handshake p99 and a longer time back to 90 %; the open loop then runs its backlog, the spike after the dip.\n\n")
	b.WriteString(table(rows))
	b.WriteString("\n## Findings\n\n")
	if f := findings(rows); len(f) > 0 {
		b.WriteString(strings.Join(f, "\n") + "\n")
	}
	b.WriteString("\n## Charts\n\nThroughput, connections opened per second and open connections of each run, the rotation marked in red.\n")
	for _, r := range rows {
		charts, err := chartsOf(r.dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "\n### %s, %s\n\n", r.mode, r.style)
		for _, c := range charts {
			name := fmt.Sprintf("%s-%s-%s.svg", r.mode, r.slug, c.Name)
			if err := os.WriteFile(filepath.Join(imgDir, name), []byte(c.SVG), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(&b, "![%s %s: %s](%s/%s)\n", r.mode, r.style, c.Name, filepath.Base(imgDir), name)
		}
	}
	return os.WriteFile(o.doc, []byte(b.String()), 0o644)
}

// chartsOf loads a run directory and returns its storm charts.
func chartsOf(dir string) ([]report.Chart, error) {
	runs, err := report.Load([]string{dir})
	if err != nil {
		return nil, err
	}
	if len(runs) != 1 {
		return nil, fmt.Errorf("%s: %d runs, want 1", dir, len(runs))
	}
	return report.StormCharts(runs[0]), nil
}
