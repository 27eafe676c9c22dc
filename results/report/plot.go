package report

import (
	"fmt"
)

// Chart geometry in SVG user units; the page scales charts to its width.
const (
	chartW  = 1100.0
	chartH  = 300.0
	marginL = 64.0
	marginR = 24.0
	marginT = 40.0
	marginB = 46.0
)

// legendItem is one entry of a chart's legend.
type legendItem struct {
	label, color string
	dashed, box  bool
}

// plot is a chart frame: y axis with grid lines, a baseline, a legend, and
// an x scale that is numeric for line charts and unused for bar charts.
type plot struct {
	svg
	x, y scale
}

// newLinePlot draws the frame of a chart of values over elapsed seconds.
func newLinePlot(class, id, label, yLabel string, xMax, yMax float64, legend []legendItem) *plot {
	p := newPlot(class, id, label, yLabel, yMax, legend)
	xt, xTop := niceTicks(xMax, 10)
	p.x = scale{0, xTop, marginL, chartW - marginR}
	for _, v := range xt {
		x := p.x.at(v)
		p.line("tick", x, chartH-marginB, x, chartH-marginB+5, ` stroke="#444"`)
		p.text("tick-label", x, chartH-marginB+18, "middle", num(v))
	}
	p.text("axis-label", (marginL+chartW-marginR)/2, chartH-6, "middle", "elapsed (s)")
	return p
}

// newPlot draws the y axis, its grid, the baseline and the legend.
func newPlot(class, id, label, yLabel string, yMax float64, legend []legendItem) *plot {
	return newTallPlot(class, id, label, yLabel, yMax, legend, 0)
}

// newTallPlot is newPlot with extra room below the x axis, for labels
// that had to be rotated.
func newTallPlot(class, id, label, yLabel string, yMax float64, legend []legendItem, extra float64) *plot {
	p := &plot{}
	p.open(class, id, label, chartW, chartH+extra)
	p.b.WriteString(`<rect class="background" x="0" y="0" width="100%" height="100%" fill="#fff"/>`)
	yt, yTop := niceTicks(yMax*1.05, 5) // headroom: a flat line must not lie on the frame
	p.y = scale{0, yTop, chartH - marginB, marginT}
	for _, v := range yt {
		y := p.y.at(v)
		p.line("grid", marginL, y, chartW-marginR, y, ` stroke="#e3e3e3"`)
		p.text("tick-label", marginL-8, y+4, "end", num(v))
	}
	p.line("axis x-axis", marginL, chartH-marginB, chartW-marginR, chartH-marginB, ` stroke="#444"`)
	p.line("axis y-axis", marginL, marginT, marginL, chartH-marginB, ` stroke="#444"`)
	fmt.Fprintf(&p.b, `<text class="axis-label" transform="translate(14 %s) rotate(-90)" text-anchor="middle">%s</text>`,
		f((marginT+chartH-marginB)/2), esc(yLabel))
	p.legend(legend)
	return p
}

// legend draws the entries left to right above the plot area.
func (p *plot) legend(items []legendItem) {
	x := marginL
	for _, it := range items {
		if it.box {
			p.rect("legend-swatch", x, 12, 14, 12, it.color, "")
		} else {
			style := fmt.Sprintf(` stroke="%s" stroke-width="3"`, it.color)
			if it.dashed {
				style += ` stroke-dasharray="6 3"`
			}
			p.line("legend-swatch", x, 18, x+16, 18, style)
		}
		p.text("legend-label", x+20, 22, "start", it.label)
		x += 34 + 7*float64(len([]rune(it.label)))
	}
}

// empty writes a note in the middle of a chart that has nothing to draw.
func (p *plot) empty(msg string) {
	p.text("no-data", chartW/2, chartH/2, "middle", msg)
}
