package report

import (
	"fmt"
	"math"

	"github.com/authbench/authbench/results"
)

// hasConnColumns reports whether a run's ticks carry the connection
// columns (runs before fleets do not).
func hasConnColumns(r Run) bool {
	for _, t := range r.Ticks {
		if t.Connects > 0 || t.OpenConns > 0 || t.ConnFailures > 0 {
			return true
		}
	}
	return false
}

// connectsChart draws, under the throughput chart, the connections opened
// and the connection attempts failed in each second, with every rotation
// marked: a reconnect storm is its spike.
func connectsChart(r Run, idx int) string {
	ticks := lineTicks(r.Ticks)
	opened, failed := make([]float64, len(ticks)), make([]float64, len(ticks))
	yMax := 0.0
	for i, t := range ticks {
		opened[i], failed[i] = perSecond(t.Connects, t), perSecond(t.ConnFailures, t)
		yMax = math.Max(yMax, math.Max(opened[i], failed[i]))
	}
	legend := []legendItem{{label: "connects/s", color: color(0)}, {label: "failures/s", color: rotationColor},
		{label: "rotation", color: rotationColor, dashed: true}}
	p := newLinePlot("connects", fmt.Sprintf("connects-%d", idx), r.Label+": connections opened per second", "conn/s", xMax(r), yMax, legend)
	p.warmup(r.Ticks)
	p.series("series s-connects", color(0), ticks, opened, false)
	p.series("series s-conn-failures", rotationColor, ticks, failed, false)
	p.events(r, false)
	if len(ticks) == 0 {
		p.empty("no per-second data in ticks.ndjson")
	}
	return p.close()
}

// openConnsChart draws the connections open at the end of each second,
// with every rotation marked: a fleet's pools hold them; a storm shows as
// a dip while connections are closed and opened again.
func openConnsChart(r Run, idx int) string {
	ticks := lineTicks(r.Ticks)
	open := make([]float64, len(ticks))
	yMax := 0.0
	for i, t := range ticks {
		open[i] = float64(t.OpenConns)
		yMax = math.Max(yMax, open[i])
	}
	legend := []legendItem{{label: "open connections", color: color(1)}, {label: "rotation", color: rotationColor, dashed: true}}
	p := newLinePlot("open-conns", fmt.Sprintf("open-conns-%d", idx), r.Label+": open connections", "connections", xMax(r), yMax, legend)
	p.warmup(r.Ticks)
	p.series("series s-open", color(1), ticks, open, false)
	p.events(r, false)
	if len(ticks) == 0 {
		p.empty("no per-second data in ticks.ndjson")
	}
	return p.close()
}

// perSecond is n over tick t's interval.
func perSecond(n int64, t results.Tick) float64 {
	if t.IntervalS <= 0 {
		return 0
	}
	return float64(n) / t.IntervalS
}

// Chart is one of a run's charts as a standalone SVG image.
type Chart struct {
	// Name names the chart: throughput, connects or open-connections.
	Name string
	// SVG is the image.
	SVG string
}

// StormCharts returns a run's throughput chart and, when its ticks carry
// them, its connects-per-second and open-connections charts, each with the
// rotations marked, as standalone SVG images (for documents that show a
// storm outside the HTML report).
func StormCharts(r Run) []Chart {
	out := []Chart{{"throughput", standalone(throughputChart(r, 0))}}
	if hasConnColumns(r) {
		out = append(out, Chart{"connects", standalone(connectsChart(r, 0))}, Chart{"open-connections", standalone(openConnsChart(r, 0))})
	}
	return out
}

// standalone makes a chart's markup an SVG file of its own.
func standalone(svg string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + svg + "\n"
}

// stormCell renders a rotation's storm columns: the busiest second's
// connects, the failed connects, the worst handshake p99 and, in a fleet,
// the instances rotated by the window's end.
func stormCell(ri results.RotationImpact) string {
	if ri.PeakConnectsS == 0 && ri.HandshakeP99 == 0 {
		return "–"
	}
	s := fmt.Sprintf("%d conn/s, %d failed, handshake p99 %s ms", ri.PeakConnectsS, ri.ConnFailures, num(ri.HandshakeP99))
	if ri.InstancesShare > 0 {
		s += fmt.Sprintf(", %d instances (%.0f %%)", ri.InstancesRotated, 100*ri.InstancesShare)
	}
	return s
}
