package report

import (
	"fmt"
	"math"

	"github.com/authbench/authbench/results"
)

// barGroup is one labelled cluster of bars.
type barGroup struct {
	label string
	bars  []bar
}

// bar is one bar; a pale back bar (p99) may stand behind a solid one (p50).
type bar struct {
	class, color string
	value, back  float64
	tip          string
}

// barPlot draws a bar chart's frame with room for its group labels, and
// its groups.
func barPlot(class, id, label, yLabel string, yMax float64, legend []legendItem, groups []barGroup, values bool) *plot {
	lay := layoutGroupLabels(groups)
	p := newTallPlot(class, id, label, yLabel, yMax, legend, lay.extra)
	p.drawGroups(groups, values, lay)
	return p
}

// drawGroups lays the groups out across the plot, each bar's value on top
// when labels is set. Non-zero values get at least one pixel.
func (p *plot) drawGroups(groups []barGroup, labels bool, lay groupLabels) {
	if len(groups) == 0 {
		return
	}
	groupW := groupWidth(groups)
	for gi, g := range groups {
		x0 := marginL + float64(gi)*groupW
		n := math.Max(1, float64(len(g.bars)))
		barW := math.Min(40, groupW*0.8/n)
		start := x0 + (groupW-barW*n)/2
		for bi, b := range g.bars {
			x := start + float64(bi)*barW
			if b.back > 0 {
				p.bar(b.class+" back", x+1, barW-2, b.back, b.color, 0.35, b.tip)
				p.bar(b.class, x+barW*0.25, barW*0.5, b.value, b.color, 1, b.tip)
			} else {
				p.bar(b.class, x+1, barW-2, b.value, b.color, 1, b.tip)
			}
			if labels {
				p.text("bar-value", x+barW/2, p.y.at(b.value)-4, "middle", num(b.value))
			}
		}
		p.groupLabel(x0+groupW/2, g.label, lay)
	}
}

func groupWidth(groups []barGroup) float64 {
	return (chartW - marginL - marginR) / float64(max(1, len(groups)))
}

func (p *plot) bar(class string, x, w, v float64, fill string, opacity float64, tip string) {
	y0 := chartH - marginB
	h := y0 - p.y.at(v)
	if v > 0 && h < 1 {
		h = 1
	}
	fmt.Fprintf(&p.b, `<rect class="bar %s" x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="%s"><title>%s</title></rect>`,
		esc(class), f(x), f(y0-h), f(math.Max(w, 1)), f(h), fill, trim(opacity, 2), esc(tip))
}

// handshakeChart compares the handshake phases of every run that has them:
// one group per run, one bar per phase, solid up to p50 in front of a pale
// bar up to p99. It returns "" when no run recorded a handshake.
func handshakeChart(runs []Run) string {
	all := map[string]bool{}
	for _, r := range runs {
		for name := range r.Summary.Handshake {
			all[name] = true
		}
	}
	if len(all) == 0 {
		return ""
	}
	phases := results.PhaseOrder(all)
	var groups []barGroup
	yMax := 0.0
	for _, r := range runs {
		if len(r.Summary.Handshake) == 0 {
			continue
		}
		g := barGroup{label: r.Label}
		for i, ph := range phases {
			pc, ok := r.Summary.Handshake[ph]
			tip := fmt.Sprintf("%s, %s: p50 %s ms, p99 %s ms (%d connections)", r.Label, ph, num(pc.P50), num(pc.P99), pc.Count)
			if !ok {
				tip = fmt.Sprintf("%s, %s: not recorded", r.Label, ph)
			}
			g.bars = append(g.bars, bar{class: "phase " + seriesClass(ph), color: color(i), value: pc.P50, back: math.Max(pc.P99, pc.P50), tip: tip})
			yMax = math.Max(yMax, pc.P99)
		}
		groups = append(groups, g)
	}
	legend := make([]legendItem, 0, len(phases)+2)
	for i, ph := range phases {
		legend = append(legend, legendItem{label: ph, color: color(i), box: true})
	}
	legend = append(legend, legendItem{label: "solid: p50", color: "#555", box: true}, legendItem{label: "pale: p99", color: "#ccc", box: true})
	p := barPlot("handshake", "handshake", "handshake phases per run: p50 and p99 (ms)", "ms", yMax, legend, groups, false)
	return p.close()
}

// retriesChart draws, per op of one run, its retried transactions, total
// retries and failed transactions.
func retriesChart(r Run, idx int) string {
	kinds := []struct {
		name, color string
		get         func(results.OpSummary) int64
	}{
		{"retried transactions", "#E69F00", func(o results.OpSummary) int64 { return o.RetriedTxns }},
		{"retries", "#0072B2", func(o results.OpSummary) int64 { return o.Retries }},
		{"failed", "#D55E00", func(o results.OpSummary) int64 { return o.Errors }},
	}
	var groups []barGroup
	yMax := 0.0
	for _, o := range r.Summary.Ops {
		g := barGroup{label: o.Op}
		for _, k := range kinds {
			v := float64(k.get(o))
			g.bars = append(g.bars, bar{class: seriesClass(k.name), color: k.color, value: v, tip: fmt.Sprintf("%s: %d %s", o.Op, k.get(o), k.name)})
			yMax = math.Max(yMax, v)
		}
		groups = append(groups, g)
	}
	legend := make([]legendItem, len(kinds))
	for i, k := range kinds {
		legend[i] = legendItem{label: k.name, color: k.color, box: true}
	}
	p := barPlot("retries", fmt.Sprintf("retries-%d", idx), r.Label+": retries and failures per op", "count", yMax, legend, groups, true)
	if yMax == 0 {
		p.empty("no retries and no failed transactions")
	}
	return p.close()
}
