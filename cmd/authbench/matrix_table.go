package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/authbench/authbench/results"
)

// matrixRow is one combination's outcome.
type matrixRow struct {
	workload, auth, dir string
	summary             *results.Summary
	err                 string
}

func (r matrixRow) line() string {
	if r.summary == nil {
		return fmt.Sprintf("%s / %s: FAILED: %s", r.workload, r.auth, r.err)
	}
	t := r.summary.Total
	s := fmt.Sprintf("%s / %s / %s: %.1f ops/s, p50 %.1f ms, p99 %.1f ms, %d retries, %d errors",
		r.workload, r.auth, r.shape(), t.OpsPerSec, t.Latency.P50, t.Latency.P99, t.Retries, t.Errors)
	if r.err != "" {
		s += " (" + r.err + ")"
	}
	return s
}

// shape is the run's transaction shape, "-" when unknown.
func (r matrixRow) shape() string {
	if r.summary == nil || r.summary.Shape() == "" {
		return "-"
	}
	return r.summary.Shape()
}

var matrixHeader = []string{"workload", "auth", "shape", "ops/s", "p50 ms", "p99 ms", "retries", "errors",
	"conn total p50/p99 ms", "credential p50/p99", "tls p50/p99", "auth p50/p99", "rotations", "worst dip"}

// cells renders the row for the comparison table.
func (r matrixRow) cells() []string {
	if r.summary == nil {
		return append([]string{r.workload, r.auth, r.shape(), "failed: " + strings.ReplaceAll(r.err, "|", "/")}, make([]string, len(matrixHeader)-4)...)
	}
	s, t := r.summary, r.summary.Total
	phase := func(name string) string {
		p, ok := s.Handshake[name]
		if !ok {
			return "-"
		}
		return fmt.Sprintf("%.2f / %.2f", p.P50, p.P99)
	}
	dip := "-"
	for i, rot := range s.Rotations {
		if i == 0 || rot.Dip < parseDip(dip) {
			dip = fmt.Sprintf("%.2f", rot.Dip)
		}
	}
	return []string{r.workload, r.auth, r.shape(), fmt.Sprintf("%.1f", t.OpsPerSec), fmt.Sprintf("%.2f", t.Latency.P50),
		fmt.Sprintf("%.2f", t.Latency.P99), fmt.Sprint(t.Retries), fmt.Sprint(t.Errors),
		phase("total"), phase("credential"), phase("tls"), phase("auth"), fmt.Sprint(len(s.Rotations)), dip}
}

func parseDip(s string) float64 {
	var f float64
	if _, err := fmt.Sscanf(s, "%f", &f); err != nil {
		return 2
	}
	return f
}

// writeMatrix prints the comparison as a table and writes it as Markdown to
// DIR/matrix.md; it fails if any combination failed.
func writeMatrix(dir string, rows []matrixRow, stdout io.Writer) error {
	var md strings.Builder
	md.WriteString("| " + strings.Join(matrixHeader, " | ") + " |\n")
	md.WriteString("|" + strings.Repeat("---|", len(matrixHeader)) + "\n")
	failed := 0
	for _, r := range rows {
		if r.summary == nil {
			failed++
		}
		md.WriteString("| " + strings.Join(r.cells(), " | ") + " |\n")
	}
	path := filepath.Join(dir, "matrix.md")
	if err := os.WriteFile(path, []byte(md.String()), 0o644); err != nil {
		return fmt.Errorf("writing %s: %v", path, err)
	}
	fmt.Fprintf(stdout, "\n%s\ncomparison: %s\n", md.String(), path)
	if failed > 0 {
		return fmt.Errorf("%d of %d combinations failed; their logs are in %s", failed, len(rows), dir)
	}
	return nil
}
