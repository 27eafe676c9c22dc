package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/authbench/authbench/results"
)

const (
	rotationColor = "#C00000"
	faultColor    = "#6A3D9A"
	warmupFill    = "rgba(0,0,0,0.07)"
)

// opNames lists a run's ops in summary order, then any only its ticks name.
func opNames(r Run) []string {
	var ops []string
	seen := map[string]bool{}
	add := func(op string) {
		if !seen[op] {
			seen[op] = true
			ops = append(ops, op)
		}
	}
	for _, o := range r.Summary.Ops {
		add(o.Op)
	}
	for _, t := range r.Ticks {
		for _, o := range t.Ops {
			add(o.Op)
		}
	}
	return ops
}

func opTick(t results.Tick, op string) (results.OpTick, bool) {
	for _, o := range t.Ops {
		if o.Op == op {
			return o, true
		}
	}
	return results.OpTick{}, false
}

// minLineInterval is the shortest tick drawn in the per-second lines: the
// last, partial tick of a run can be a few milliseconds long, and a rate or
// a percentile over so short a time is noise.
const minLineInterval = 0.5

// lineTicks returns the ticks the per-second lines are drawn through.
func lineTicks(ticks []results.Tick) []results.Tick {
	out := make([]results.Tick, 0, len(ticks))
	for _, t := range ticks {
		if t.IntervalS >= minLineInterval {
			out = append(out, t)
		}
	}
	return out
}

// xMax is the end of the time axis: the last tick or event.
func xMax(r Run) float64 {
	m := 1.0
	for _, t := range r.Ticks {
		m = math.Max(m, t.Elapsed)
	}
	for _, e := range r.Summary.Events {
		m = math.Max(m, e.Elapsed)
	}
	return m
}

// throughputChart draws ops per second of every op (and their total when
// there are several), warm-up shaded, seconds with errors marked at the
// bottom and every rotation as a labelled vertical line.
func throughputChart(r Run, idx int) string {
	ops := opNames(r)
	ticks := lineTicks(r.Ticks)
	series := map[string][]float64{}
	yMax := 0.0
	for _, t := range ticks {
		total := 0.0
		for _, op := range ops {
			o, _ := opTick(t, op)
			series[op] = append(series[op], o.OpsPerSec)
			total += o.OpsPerSec
		}
		series["total"] = append(series["total"], total)
		yMax = math.Max(yMax, total)
	}
	names := ops
	if len(ops) > 1 {
		names = append([]string{"total"}, ops...)
	}
	legend := make([]legendItem, 0, len(names)+2)
	for i, n := range names {
		legend = append(legend, legendItem{label: n, color: color(i)})
	}
	legend = append(legend, legendItem{label: "rotation", color: rotationColor, dashed: true})
	if len(r.Summary.Faults) > 0 {
		legend = append(legend, legendItem{label: "fault", color: faultColor, dashed: true})
	}
	legend = append(legend, legendItem{label: "warm-up", color: warmupFill, box: true}, legendItem{label: "errors", color: rotationColor, box: true})
	p := newLinePlot("throughput", fmt.Sprintf("throughput-%d", idx), r.Label+": throughput (ops/s)", "ops/s", xMax(r), yMax, legend)
	p.warmup(r.Ticks)
	for i, n := range names {
		p.series("series "+seriesClass(n), color(i), ticks, series[n], false)
	}
	p.errorMarks(r.Ticks)
	p.events(r, true)
	if len(ticks) == 0 {
		p.empty("no per-second data in ticks.ndjson")
	}
	return p.close()
}

// seriesClass turns a series name into a class token.
func seriesClass(name string) string {
	return "s-" + strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, name)
}

// series draws one line over the ticks; a NaN value leaves a gap.
func (p *plot) series(class, stroke string, ticks []results.Tick, vals []float64, dashed bool) {
	pts := make([][2]float64, len(vals))
	for i, v := range vals {
		y := math.NaN()
		if !math.IsNaN(v) {
			y = p.y.at(v)
		}
		pts[i] = [2]float64{p.x.at(ticks[i].Elapsed), y}
	}
	p.path(class, stroke, pts, dashed)
}

// warmup shades the warm-up ticks.
func (p *plot) warmup(ticks []results.Tick) {
	for _, t := range ticks {
		if t.Warmup {
			x0, x1 := p.x.at(t.Elapsed-t.IntervalS), p.x.at(t.Elapsed)
			p.rect("warmup", x0, marginT, x1-x0, chartH-marginB-marginT, warmupFill, "warm-up: left out of the statistics")
		}
	}
}

// errorMarks puts a red mark under every second that had failed ops.
func (p *plot) errorMarks(ticks []results.Tick) {
	for _, t := range ticks {
		var n int64
		for _, o := range t.Ops {
			n += o.Errors
		}
		if n > 0 {
			x := p.x.at(t.Elapsed)
			p.rect("error-mark", x-2, chartH-marginB-8, 4, 8, rotationColor, fmt.Sprintf("%d failed at %s s", n, num(t.Elapsed)))
		}
	}
}

// events draws every rotation and every fault as a dashed vertical line
// (labelled when label is set; hover for its impact) and the other events
// of each second as one grey mark at the top.
func (p *plot) events(r Run, label bool) {
	others := map[float64][]string{}
	row := 0
	for _, e := range r.Summary.Events {
		class, stroke, impacts, text := "rotation", rotationColor, r.Summary.Rotations, e.Kind+" "+e.Source
		switch {
		case e.Kind == results.FaultEvent:
			class, stroke, impacts, text = "fault", faultColor, r.Summary.Faults, "fault"
		case !e.Rotation || e.Instance > 0: // a fleet instance's part: its rotation row is the fleet's
			sec := math.Ceil(e.Elapsed)
			others[sec] = append(others[sec], e.Kind)
			continue
		}
		x := p.x.at(e.Elapsed)
		fmt.Fprintf(&p.b, `<g class="event %s"><title>%s</title>`, class, esc(impactTip(e, impacts)))
		p.line("event-line", x, marginT, x, chartH-marginB, ` stroke="`+stroke+`" stroke-width="1.5" stroke-dasharray="5 3"`)
		if label {
			fmt.Fprintf(&p.b, `<text class="event-label" x="%s" y="%s" text-anchor="start" style="fill:%s">%s</text>`,
				f(x+3), f(marginT+11+float64(row%3)*12), stroke, esc(text))
			row++
		}
		p.b.WriteString(`</g>`)
	}
	secs := make([]float64, 0, len(others))
	for s := range others {
		secs = append(secs, s)
	}
	sort.Float64s(secs)
	for _, s := range secs {
		x := p.x.at(s)
		fmt.Fprintf(&p.b, `<g class="event other"><title>%s</title>`, esc(fmt.Sprintf("%s s: %s", num(s), countKinds(others[s]))))
		p.line("event-tick", x, marginT-6, x, marginT, ` stroke="#777" stroke-width="1.5"`)
		p.b.WriteString(`</g>`)
	}
}

// impactTip is the tooltip of a rotation or fault line: the event and,
// from impacts, its dip, errors and recovery.
func impactTip(e results.Event, impacts []results.RotationImpact) string {
	tip := fmt.Sprintf("%s %s at %s s", e.Kind, e.Source, num(e.Elapsed))
	if e.Detail != "" {
		tip += " (" + e.Detail + ")"
	}
	for _, ri := range impacts {
		if ri.Elapsed == e.Elapsed && ri.Source == e.Source {
			rec := "never recovered"
			if ri.RecoveryS >= 0 {
				rec = "recovered in " + num(ri.RecoveryS) + " s"
			}
			tip += fmt.Sprintf(": dip %s, %d errors in 10 s, %s", num(ri.Dip), ri.ErrorsWindow, rec)
		}
	}
	return tip
}

func countKinds(kinds []string) string {
	n := map[string]int{}
	var order []string
	for _, k := range kinds {
		if n[k] == 0 {
			order = append(order, k)
		}
		n[k]++
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%s ×%d", k, n[k])
	}
	return strings.Join(parts, ", ")
}

// latencyChart draws one op's p50, p95 and p99 per second (and service
// time in an open loop), with rotations as vertical lines.
func latencyChart(r Run, idx int, op string) string {
	lines := []struct {
		name   string
		get    func(results.OpTick) float64
		dashed bool
	}{
		{"p50", func(o results.OpTick) float64 { return o.P50 }, false},
		{"p95", func(o results.OpTick) float64 { return o.P95 }, false},
		{"p99", func(o results.OpTick) float64 { return o.P99 }, false},
		{"service p50", func(o results.OpTick) float64 { return o.SvcP50 }, true},
		{"service p99", func(o results.OpTick) float64 { return o.SvcP99 }, true},
	}
	ticks := lineTicks(r.Ticks)
	open := false
	yMax := 0.0
	for _, t := range ticks {
		o, _ := opTick(t, op)
		yMax = math.Max(yMax, math.Max(o.P99, o.SvcP99))
		open = open || o.SvcP50 > 0
	}
	if !open {
		lines = lines[:3]
	}
	colors := []string{"#0072B2", "#E69F00", "#D55E00", "#009E73", "#CC79A7"}
	legend := make([]legendItem, 0, len(lines)+1)
	for i, l := range lines {
		legend = append(legend, legendItem{label: l.name, color: colors[i], dashed: l.dashed})
	}
	legend = append(legend, legendItem{label: "rotation", color: rotationColor, dashed: true})
	id := fmt.Sprintf("latency-%d-%s", idx, seriesClass(op))
	p := newLinePlot("latency", id, r.Label+": "+op+" latency (ms)", "ms", xMax(r), yMax, legend)
	p.warmup(r.Ticks)
	for i, l := range lines {
		vals := make([]float64, len(ticks))
		for k, t := range ticks {
			o, ok := opTick(t, op)
			vals[k] = l.get(o)
			if !ok || o.Count == 0 {
				vals[k] = math.NaN()
			}
		}
		p.series("series "+seriesClass(strings.ReplaceAll(l.name, " ", "-")), colors[i], ticks, vals, l.dashed)
	}
	p.events(r, false)
	if yMax == 0 {
		p.empty("no latency recorded for " + op)
	}
	return p.close()
}
