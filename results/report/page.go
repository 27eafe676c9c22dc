package report

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/authbench/authbench/fix"
	"github.com/authbench/authbench/results"
)

// Options tune the page.
type Options struct {
	Title string    // default "authbench report"
	Now   time.Time // the time printed as generated; default time.Now()
}

// runView is one run's section of the page.
type runView struct {
	ID, Label, Dir, Meta string
	Throughput           template.HTML
	Connects, OpenConns  template.HTML // empty for runs without the connection columns
	Latency              []opChart
	Retries              template.HTML
	Errors               []classView
	Ambiguous            int64
	Rotations, Faults    impactTable
}

// classView is one error class of a run: failed transactions and the
// failed attempts that a retry hid.
type classView struct {
	Class           string
	Failed, Retried int64
}

// impactTable is a table of rotations or of faults.
type impactTable struct {
	Class string
	Rows  []rotationView
}

// opChart is one op's chart, captioned with the op's name.
type opChart struct {
	Op  string
	SVG template.HTML
}

type rotationView struct {
	Elapsed, Event, Dip, Errors, Recovery string
	Storm                                 string // the storm columns, or "–" for runs without them
}

// pageView is everything the template shows.
type pageView struct {
	Title, Generated string
	Columns          []string
	Rows             [][]string
	Markdown         string
	Handshake        template.HTML
	Phases           []string
	PhaseRows        []handshakeRow
	Runs             []runView
	Capacity         []capacityView
}

// Write renders the report of runs as one self-contained HTML page.
func Write(w io.Writer, runs []Run, opt Options) error {
	if opt.Title == "" {
		opt.Title = "authbench report"
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	rows := Rows(runs)
	v := pageView{
		Title: opt.Title, Generated: opt.Now.UTC().Format("2006-01-02 15:04:05 UTC"),
		Columns: Columns, Markdown: Markdown(rows),
		Handshake: template.HTML(handshakeChart(runs)),
	}
	for _, r := range rows {
		v.Rows = append(v.Rows, r.cells())
	}
	v.Phases, v.PhaseRows = handshakeTable(runs)
	var err error
	if v.Capacity, err = capacityViews(runs); err != nil {
		return err
	}
	for i, r := range runs {
		v.Runs = append(v.Runs, viewRun(r, i))
	}
	return pageTemplate.Execute(w, v)
}

// WriteFile writes the report to path, replacing it only once complete.
func WriteFile(path string, runs []Run, opt Options) error {
	var buf bytes.Buffer
	if err := Write(&buf, runs, opt); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*.html")
	if err != nil {
		return writeError(path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return writeError(path, err)
	}
	if err := tmp.Close(); err != nil {
		return writeError(path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return writeError(path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return writeError(path, err)
	}
	return nil
}

func viewRun(r Run, i int) runView {
	rv := runView{
		ID: fmt.Sprintf("run-%d", i), Label: r.Label, Dir: r.Dir, Meta: runMeta(r.Summary),
		Throughput: template.HTML(throughputChart(r, i)),
		Retries:    template.HTML(retriesChart(r, i)),
	}
	if hasConnColumns(r) {
		rv.Connects, rv.OpenConns = template.HTML(connectsChart(r, i)), template.HTML(openConnsChart(r, i))
	}
	for _, op := range opNames(r) {
		rv.Latency = append(rv.Latency, opChart{Op: op, SVG: template.HTML(latencyChart(r, i, op))})
	}
	rv.Errors = classViews(r.Summary.Errors, r.Summary.Retried)
	rv.Ambiguous = r.Summary.Total.Ambiguous
	rv.Rotations = impactTable{"impact rotations", impactViews(r.Summary.Rotations)}
	rv.Faults = impactTable{"impact faults", impactViews(r.Summary.Faults)}
	return rv
}

// classViews are the rows of a run's errors table, one per class that
// failed a transaction or an attempt, in class-name order.
func classViews(failed, retried map[string]int64) []classView {
	classes := map[string]bool{}
	for c := range failed {
		classes[c] = true
	}
	for c := range retried {
		classes[c] = true
	}
	out := make([]classView, 0, len(classes))
	for _, c := range slices.Sorted(maps.Keys(classes)) {
		out = append(out, classView{Class: c, Failed: failed[c], Retried: retried[c]})
	}
	return out
}

// impactViews are the table rows of rotations or faults: when, what, how
// deep the dip, how many failures and how long until throughput was back.
func impactViews(list []results.RotationImpact) []rotationView {
	var out []rotationView
	for _, ri := range list {
		rec := "never"
		if ri.RecoveryS >= 0 {
			rec = num(ri.RecoveryS) + " s"
		}
		out = append(out, rotationView{
			Elapsed: num(ri.Elapsed) + " s", Event: strings.TrimSpace(ri.Kind + " " + ri.Source + " " + ri.Detail),
			Dip:    fmt.Sprintf("%.2f (%s → %s ops/s)", ri.Dip, num(ri.BaselineOps), num(ri.WorstOps)),
			Errors: fmt.Sprint(ri.ErrorsWindow), Recovery: rec, Storm: stormCell(ri),
		})
	}
	return out
}

// runMeta is the one-line description under a run's heading.
func runMeta(s *results.Summary) string {
	parts := []string{
		fmt.Sprintf("started %s", s.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")),
		fmt.Sprintf("measured %s s", num(s.DurationS)),
	}
	for _, k := range []string{"concurrency", "conn-mode", "max-rate", "contention"} {
		if v := s.Config[k]; v != "" && v != "0" {
			parts = append(parts, k+" "+v)
		}
	}
	if s.Server.Version != "" {
		db := "PostgreSQL "
		if s.Server.CockroachDB {
			db = "CockroachDB "
		}
		parts = append(parts, db+s.Server.Version)
	}
	if s.Server.TLS != "" {
		parts = append(parts, "sslmode "+s.Server.TLS)
	}
	if len(s.RunIDs) > 1 {
		parts = append(parts, fmt.Sprintf("merged from %d runs", len(s.RunIDs)))
	}
	if s.Interrupted {
		parts = append(parts, "interrupted")
	}
	return strings.Join(parts, " · ")
}

var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + css + `</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p class="meta">Generated {{.Generated}} from {{len .Runs}} run(s). Self-contained: no scripts, fonts or images from anywhere.</p>
{{range .Capacity}}<section class="capacity">
<h2>{{.Title}}</h2>
<p class="meta">{{.Note}}<br><code>{{.Dir}}</code></p>
<div class="scroll"><table class="capacity">
<thead><tr>{{range index .Rows 0}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range slice .Rows 1}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody>
</table></div>
<h3>Latency against offered load</h3>
<figure>{{.Latency}}</figure>
<h3>Achieved against offered load</h3>
<figure>{{.Achieved}}</figure>
</section>
{{end}}<section id="summary">
<h2>Summary</h2>
<div class="scroll"><table class="summary">
<thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody>
</table></div>
<details class="markdown"><summary>Markdown, to paste into a ticket</summary><pre class="markdown">{{.Markdown}}</pre></details>
</section>
<section id="handshake">
<h2>Handshake phases</h2>
{{if .Handshake}}<figure>{{.Handshake}}</figure>
<div class="scroll"><table class="handshake">
<thead><tr><th>run</th>{{range .Phases}}<th>{{.}} p50 / p99 ms</th>{{end}}</tr></thead>
<tbody>{{range .PhaseRows}}<tr><td>{{.Run}}</td>{{range .Phases}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody>
</table></div>{{else}}<p class="empty">No run recorded a handshake.</p>{{end}}
</section>
{{range .Runs}}<section class="run" id="{{.ID}}">
<h2>{{.Label}}</h2>
<p class="meta">{{.Meta}}<br><code>{{.Dir}}</code></p>
<h3>Throughput</h3>
<figure>{{.Throughput}}</figure>
{{if .Connects}}<h3>Connections</h3>
<figure>{{.Connects}}</figure>
<figure>{{.OpenConns}}</figure>{{end}}
<h3>Latency percentiles per second</h3>
{{range .Latency}}<figure><figcaption>op <b>{{.Op}}</b></figcaption>{{.SVG}}</figure>{{end}}
<h3>Retries and failures</h3>
<figure>{{.Retries}}</figure>
<h3>Errors by class</h3>
{{if .Errors}}<div class="scroll"><table class="errors">
<thead><tr><th>class</th><th>failed transactions</th><th>failed attempts retried</th></tr></thead>
<tbody>{{range .Errors}}<tr><td>{{.Class}}</td><td>{{.Failed}}</td><td>{{.Retried}}</td></tr>{{end}}</tbody>
</table></div>
<p class="note">Failed: after the last retry. Retried: attempts that failed and were then retried, which hid them; serialization conflicts are in the retry counts above.</p>{{else}}<p class="empty">No transaction and no attempt failed.</p>{{end}}
<p class="meta ambiguous">Ambiguous commits (the COMMIT reply was lost, the outcome is unknown): {{.Ambiguous}}</p>
{{if .Rotations.Rows}}<h3>Rotations</h3>
{{template "impact" .Rotations}}{{end}}
{{if .Faults.Rows}}<h3>Faults (errors after a clean period)</h3>
{{template "impact" .Faults}}{{end}}
</section>
{{end}}</main>
</body>
</html>
{{define "impact"}}<div class="scroll"><table class="{{.Class}}"><thead><tr><th>elapsed</th><th class="text">event</th><th>dip (worst ÷ baseline)</th><th>errors in 10&nbsp;s</th><th>recovery (back to 90&nbsp;%)</th><th>storm in 10&nbsp;s (peak connects, failed connects, handshake p99, instances rotated)</th></tr></thead>
<tbody>{{range .Rows}}<tr><td>{{.Elapsed}}</td><td class="text">{{.Event}}</td><td>{{.Dip}}</td><td>{{.Errors}}</td><td>{{.Recovery}}</td><td>{{.Storm}}</td></tr>{{end}}</tbody></table></div>{{end}}`))

const css = `
body { margin: 0; background: #f6f7f9; color: #1d1f23; font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 2px solid #d5d9e0; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; color: #333; }
section { background: #fff; border: 1px solid #e1e4ea; border-radius: 6px; padding: 4px 16px 16px; margin-top: 16px; }
.meta { color: #555; margin: 4px 0; }
figure { margin: 0; }
figcaption { margin: 6px 0 0 64px; color: #333; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font: 12px "DejaVu Sans", "Liberation Sans", Arial, sans-serif; fill: #333; }
svg.chart text.axis-label { font-size: 12px; fill: #555; }
svg.chart text.event-label { fill: #C00000; font-size: 11px; }
svg.chart text.no-data { font-size: 14px; fill: #888; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #d5d9e0; padding: 3px 6px; text-align: right; white-space: nowrap; }
th { background: #eef1f5; white-space: normal; vertical-align: bottom; }
td:first-child, th:first-child { text-align: left; }
table.summary td:nth-child(2), table.summary th:nth-child(2) { text-align: left; }
table.rotations td:nth-child(2) { text-align: left; }
table.capacity td:nth-child(7), table.capacity th:nth-child(7) { text-align: left; white-space: normal; }
svg.chart text.objective-label { fill: #C00000; font-size: 11px; }
pre.markdown { background: #f3f4f6; padding: 8px; overflow-x: auto; font-size: 12px; }
details summary { cursor: pointer; color: #0b5cad; }
.empty { color: #888; }
.scroll { max-width: 100%; overflow-x: auto; }
td.text { text-align: left; white-space: normal; min-width: 16em; }
th.text { text-align: left; }
.note { color: #666; font-size: 12px; margin: 2px 0 8px; }
`

// writeError says the report could not be written to path, keeps the cause
// in the chain and refers to the out setting, which the CLI renders as its
// flag.
func writeError(path string, err error) error {
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err // the temporary file's name would only confuse
	}
	return &fix.Error{Step: "report", Err: err,
		What: fix.Textf("cannot write the report %s: %v", path, cause),
		Fix:  fix.Textf("choose another place with %v", fix.Flag("out"))}
}
