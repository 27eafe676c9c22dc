package report

import (
	"fmt"
	"html/template"
	"math"
	"path/filepath"
	"sort"

	"github.com/authbench/authbench/capacity"
)

// objectiveColor draws the objective's line.
const objectiveColor = "#C00000"

// capacityView is one capacity directory's part of the page: its table and
// its two charts.
type capacityView struct {
	Dir, Title, Note  string
	Rows              [][]string
	Latency, Achieved template.HTML
}

// capacityViews finds the capacity directories the runs came from (a step
// run's parent holds capacity.json) and draws each.
func capacityViews(runs []Run) ([]capacityView, error) {
	var out []capacityView
	seen := map[string]bool{}
	for i, r := range runs {
		dir := filepath.Dir(filepath.Clean(r.Dir))
		if seen[dir] {
			continue
		}
		seen[dir] = true
		f, ok, err := capacity.ReadFile(dir)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		rows := f.Table()
		out = append(out, capacityView{
			Dir: dir, Title: fmt.Sprintf("Capacity of %s (%s), objective %s", f.Workload, f.ConnMode, f.Objective),
			Note: fmt.Sprintf("Latency: %s. Steps of %g s, precision %s. Each step is a run below.", f.LatencyLabel, f.StepSeconds, capacity.Pct(f.Precision)),
			Rows: rows, Latency: template.HTML(capacityLatencyChart(f, i)), Achieved: template.HTML(achievedChart(f, i)),
		})
	}
	return out, nil
}

// ratePoint is one step on a chart against offered load.
type ratePoint struct {
	offered, y float64
	tip        string
}

// modePoints returns a mode's steps sorted by offered rate, with get's
// value as y.
func modePoints(f *capacity.File, m capacity.ModeEntry, get func(capacity.StepEntry) float64) []ratePoint {
	pts := make([]ratePoint, 0, len(m.Steps))
	for _, s := range m.Steps {
		pts = append(pts, ratePoint{s.Rate, get(s), fmt.Sprintf("%s: offered %s, achieved %s %s, p50 %s, p99 %s, errors %d: %s %s",
			m.Mode, capacity.Rate(s.Rate), capacity.Rate(s.Achieved), f.Unit, capacity.Ms(s.Latency.P50), capacity.Ms(s.Latency.P99), s.Errors, s.Outcome, s.Why)})
	}
	sort.Slice(pts, func(a, b int) bool { return pts[a].offered < pts[b].offered })
	return pts
}

// maxOffered is the x axis's end: the highest rate any mode offered.
func maxOffered(f *capacity.File) float64 {
	m := 1.0
	for _, mode := range f.Modes {
		for _, s := range mode.Steps {
			m = math.Max(m, math.Max(s.Rate, s.Achieved))
		}
	}
	return m
}

// newRatePlot draws a chart frame whose x axis is the offered rate.
func newRatePlot(class, id, label, yLabel, unit string, xMax, yMax float64, legend []legendItem) *plot {
	p := newPlot(class, id, label, yLabel, yMax, legend)
	xt, xTop := niceTicks(xMax*1.05, 10)
	p.x = scale{0, xTop, marginL, chartW - marginR}
	for _, v := range xt {
		x := p.x.at(v)
		p.line("tick", x, chartH-marginB, x, chartH-marginB+5, ` stroke="#444"`)
		p.text("tick-label", x, chartH-marginB+18, "middle", num(v))
	}
	p.text("axis-label", (marginL+chartW-marginR)/2, chartH-6, "middle", "offered load ("+unit+")")
	return p
}

// points draws a mode's steps as a line through dots, each dot with its
// step as a tooltip; values above the axis are drawn at its top.
func (p *plot) points(class, stroke string, pts []ratePoint, dashed bool) {
	line := make([][2]float64, len(pts))
	for i, pt := range pts {
		line[i] = [2]float64{p.x.at(pt.offered), p.y.at(pt.y)}
	}
	p.path(class, stroke, line, dashed)
	for i, pt := range pts {
		c := "point " + class
		if pt.y > p.y.d1 {
			c += " clipped"
		}
		fmt.Fprintf(&p.b, `<circle class="%s" cx="%s" cy="%s" r="4" fill="%s"><title>%s</title></circle>`,
			esc(c), f(line[i][0]), f(line[i][1]), stroke, esc(pt.tip))
	}
}

// capacityLatencyChart draws p50 (dashed) and p99 (solid) against offered
// load for every mode, and each latency bound of the objective as a
// horizontal line. The y axis stops at three times the highest bound, so
// that the knee stays readable; steps above it sit on the top edge.
func capacityLatencyChart(f *capacity.File, idx int) string {
	limit := 0.0
	for _, b := range f.Objective.Latency {
		limit = math.Max(limit, b.LimitMs())
	}
	yMax := 0.0
	for _, m := range f.Modes {
		for _, s := range m.Steps {
			yMax = math.Max(yMax, s.Latency.P99)
		}
	}
	if limit > 0 {
		yMax = math.Max(math.Min(yMax, 3*limit), 1.2*limit)
	}
	// One entry per mode by colour, then the two line styles: with five
	// modes, an entry per mode and statistic would not fit the width.
	var legend []legendItem
	for i, m := range f.Modes {
		legend = append(legend, legendItem{label: m.Mode, color: color(i)})
	}
	legend = append(legend, legendItem{label: "p99", color: "#555"}, legendItem{label: "p50", color: "#555", dashed: true})
	if limit > 0 {
		legend = append(legend, legendItem{label: "objective", color: objectiveColor, dashed: true})
	}
	p := newRatePlot("capacity-latency", fmt.Sprintf("capacity-latency-%d", idx), "latency against offered load ("+f.LatencyLabel+")",
		"ms", f.Unit, maxOffered(f), yMax, legend)
	for _, b := range f.Objective.Latency {
		y := p.y.at(b.LimitMs())
		p.line("objective "+seriesClass(string(b.Quantile)), marginL, y, chartW-marginR, y, ` stroke="`+objectiveColor+`" stroke-width="2" stroke-dasharray="8 4"`)
		p.text("objective-label", chartW-marginR-4, y-5, "end", b.String())
	}
	for i, m := range f.Modes {
		p.points("series "+seriesClass(m.Mode)+" p99", color(i), modePoints(f, m, func(s capacity.StepEntry) float64 { return s.Latency.P99 }), false)
		p.points("series "+seriesClass(m.Mode)+" p50", color(i), modePoints(f, m, func(s capacity.StepEntry) float64 { return s.Latency.P50 }), true)
	}
	if yMax == 0 {
		p.empty("no step was measured")
	}
	return p.close()
}

// achievedChart draws the achieved rate against the offered one for every
// mode, with the diagonal where they are equal: a step below it was not
// (fully) served.
func achievedChart(f *capacity.File, idx int) string {
	xMax := maxOffered(f)
	legend := []legendItem{{label: "achieved = offered", color: "#888", dashed: true}}
	for i, m := range f.Modes {
		legend = append(legend, legendItem{label: m.Mode, color: color(i)})
	}
	p := newRatePlot("capacity-achieved", fmt.Sprintf("capacity-achieved-%d", idx), "achieved against offered load ("+f.Unit+")",
		"achieved ("+f.Unit+")", f.Unit, xMax, xMax, legend)
	end := math.Min(p.x.d1, p.y.d1)
	p.line("diagonal", p.x.at(0), p.y.at(0), p.x.at(end), p.y.at(end), ` stroke="#888" stroke-width="1.5" stroke-dasharray="6 3"`)
	for i, m := range f.Modes {
		p.points("series "+seriesClass(m.Mode), color(i), modePoints(f, m, func(s capacity.StepEntry) float64 { return s.Achieved }), false)
	}
	return p.close()
}
