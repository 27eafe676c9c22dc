package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// palette is the Okabe-Ito set: distinguishable with every common form of
// colour blindness.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"}

func color(i int) string { return palette[i%len(palette)] }

// svg accumulates the markup of one chart.
type svg struct {
	b strings.Builder
}

func esc(s string) string { return html.EscapeString(s) }

// f formats a coordinate compactly.
func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func (s *svg) open(class, id, label string, w, h float64) {
	fmt.Fprintf(&s.b, `<svg class="chart %s" id="%s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s">`,
		esc(class), esc(id), f(w), f(h), f(w), f(h), esc(label))
	fmt.Fprintf(&s.b, `<title>%s</title>`, esc(label))
}

func (s *svg) close() string {
	s.b.WriteString(`</svg>`)
	return s.b.String()
}

func (s *svg) line(class string, x1, y1, x2, y2 float64, style string) {
	fmt.Fprintf(&s.b, `<line class="%s" x1="%s" y1="%s" x2="%s" y2="%s"%s/>`, esc(class), f(x1), f(y1), f(x2), f(y2), style)
}

func (s *svg) rect(class string, x, y, w, h float64, fill, tip string) {
	fmt.Fprintf(&s.b, `<rect class="%s" x="%s" y="%s" width="%s" height="%s" fill="%s">`, esc(class), f(x), f(y), f(math.Max(w, 0)), f(math.Max(h, 0)), fill)
	if tip != "" {
		fmt.Fprintf(&s.b, `<title>%s</title>`, esc(tip))
	}
	s.b.WriteString(`</rect>`)
}

// text draws a label; anchor is start, middle or end.
func (s *svg) text(class string, x, y float64, anchor, body string) {
	fmt.Fprintf(&s.b, `<text class="%s" x="%s" y="%s" text-anchor="%s">%s</text>`, esc(class), f(x), f(y), anchor, esc(body))
}

// path draws a polyline through pts; a NaN y breaks the line.
func (s *svg) path(class, stroke string, pts [][2]float64, dashed bool) {
	var d strings.Builder
	move := true
	for _, p := range pts {
		if math.IsNaN(p[1]) {
			move = true
			continue
		}
		cmd := "L"
		if move {
			cmd, move = "M", false
		}
		fmt.Fprintf(&d, "%s%s %s", cmd, f(p[0]), f(p[1]))
	}
	if d.Len() == 0 {
		return
	}
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="6 3"`
	}
	fmt.Fprintf(&s.b, `<path class="%s" d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`, esc(class), d.String(), stroke, dash)
}

// scale maps a data interval onto a pixel interval, clamping outside it.
type scale struct{ d0, d1, r0, r1 float64 }

func (sc scale) at(v float64) float64 {
	if sc.d1 == sc.d0 {
		return sc.r0
	}
	t := (v - sc.d0) / (sc.d1 - sc.d0)
	t = math.Max(0, math.Min(1, t))
	return sc.r0 + t*(sc.r1-sc.r0)
}

// niceTicks returns about n round tick values from 0 to at least hi, and
// the top of the axis (the last tick).
func niceTicks(hi float64, n int) ([]float64, float64) {
	if !(hi > 0) || math.IsInf(hi, 0) {
		hi = 1
	}
	raw := hi / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	var ticks []float64
	for i := 0; ; i++ {
		v := float64(i) * step
		ticks = append(ticks, v)
		if v >= hi || i > 4*n {
			return ticks, v
		}
	}
}

// num formats a value for an axis or a table: k and M for big ones, up to
// three decimals for small ones.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return trim(v/1e6, 2) + "M"
	case a >= 1e4:
		return trim(v/1e3, 1) + "k"
	case a >= 100:
		return trim(v, 0)
	case a >= 1:
		return trim(v, 2)
	default:
		return trim(v, 3)
	}
}

func trim(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
