package report

import (
	"fmt"
	"math"
)

// Group labels under a bar chart stay level while each fits the width of
// its group. Otherwise they are rotated, which leaves each label the
// height of the room below the chart, and a label longer than that room
// is shortened with "…"; the full label is its tooltip.

// labelCharW is the width of one character of a 12px label, generous for
// the sans-serif fonts the page asks for.
const labelCharW = 7.2

// Rotated group labels: the angle, steeper when groups are too narrow for
// it, the distance two neighbours need between their baselines, and the
// most room below the chart they may take.
const (
	labelAngle      = 40.0
	steepLabelAngle = 90.0
	minLabelSpace   = 14.0
	maxLabelRoom    = 130.0
)

// groupLabels is how a bar chart's group labels are laid out.
type groupLabels struct {
	angle  float64 // degrees; 0: level
	extra  float64 // room added below the chart
	maxLen float64 // longest label, along its baseline
}

func labelWidth(s string) float64 { return labelCharW * float64(len([]rune(s))) }

// layoutGroupLabels decides whether groups' labels fit level.
func layoutGroupLabels(groups []barGroup) groupLabels {
	groupW := groupWidth(groups)
	longest := 0.0
	for _, g := range groups {
		longest = math.Max(longest, labelWidth(g.label))
	}
	if longest <= groupW-8 {
		return groupLabels{}
	}
	angle := labelAngle
	if groupW*math.Sin(rad(angle)) < minLabelSpace {
		angle = steepLabelAngle
	}
	sin := math.Sin(rad(angle))
	maxLen := math.Min(longest, maxLabelRoom/sin)
	return groupLabels{angle: angle, extra: math.Ceil(18 + maxLen*sin + 6 - marginB), maxLen: maxLen}
}

func rad(deg float64) float64 { return deg * math.Pi / 180 }

// groupLabel writes one group's label centred at x under the axis.
func (p *plot) groupLabel(x float64, label string, lay groupLabels) {
	y := chartH - marginB + 18
	if lay.angle == 0 {
		p.text("group-label", x, y, "middle", label)
		return
	}
	// A rotated label ends at x and runs up-left: it may not cross the
	// chart's left edge either.
	room := lay.maxLen
	if cos := math.Cos(rad(lay.angle)); cos > 0.01 {
		room = math.Min(room, (x-4)/cos)
	}
	shown := abbreviate(label, room)
	fmt.Fprintf(&p.b, `<text class="group-label rotated" x="%s" y="%s" text-anchor="end" transform="rotate(-%s %s %s)">%s`,
		f(x), f(y), trim(lay.angle, 0), f(x), f(y), esc(shown))
	if shown != label {
		fmt.Fprintf(&p.b, `<title>%s</title>`, esc(label))
	}
	p.b.WriteString(`</text>`)
}

// abbreviate shortens s to at most width, ending in "…".
func abbreviate(s string, width float64) string {
	if labelWidth(s) <= width {
		return s
	}
	r := []rune(s)
	n := max(1, int(width/labelCharW)-1)
	if n >= len(r) {
		return s
	}
	return string(r[:n]) + "…"
}
