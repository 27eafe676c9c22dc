package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// verdict is what one driver process's memory did.
type verdict struct {
	name      string
	life      time.Duration // from the first sample to the last
	baseAt    time.Duration // when the baseline was read
	base, end int64         // resident bytes at the baseline and at the end
	peak      int64         // highest reading from the baseline on
	change    float64       // end ÷ base − 1
	ok        bool
	note      string
	timeline  []int64 // readings spread evenly from the baseline to the end
}

// timelinePoints is how many readings the report shows per driver.
const timelinePoints = 8

// judge compares the resident memory at the end of p's life with its
// baseline: the first reading after warmup, or after half its life when it
// did not live a quarter of the warm-up beyond it (a short soak; the note
// says so).
func judge(p *proc, warmup time.Duration, tolerance float64) verdict {
	v := verdict{name: p.name}
	last := p.samples[len(p.samples)-1]
	v.life, v.end = last.at, last.rss
	at := warmup
	if v.life < warmup+warmup/4 {
		at = v.life / 2
		v.note = fmt.Sprintf("lived %s, too short for a %s warm-up: baseline at half its life", v.life.Round(time.Second), warmup)
	}
	for _, s := range p.samples {
		if v.base == 0 && s.at >= at {
			v.base, v.baseAt = s.rss, s.at
		}
		if v.base != 0 && s.rss > v.peak {
			v.peak = s.rss
		}
	}
	if v.base == 0 || len(p.samples) < 3 {
		v.note = "too few readings to judge"
		return v
	}
	v.change = float64(v.end)/float64(v.base) - 1
	v.ok = v.change <= tolerance && v.change >= -tolerance
	v.timeline = timeline(p.samples, v.baseAt)
	return v
}

// timeline picks up to timelinePoints readings, evenly spread, from
// `from` to the end.
func timeline(samples []sample, from time.Duration) []int64 {
	var after []int64
	for _, s := range samples {
		if s.at >= from {
			after = append(after, s.rss)
		}
	}
	if len(after) <= timelinePoints {
		return after
	}
	out := make([]int64, timelinePoints)
	for i := range out {
		out[i] = after[i*(len(after)-1)/(timelinePoints-1)]
	}
	return out
}

// printVerdicts writes one line per driver and reports whether all held.
func printVerdicts(w io.Writer, vs []verdict, tolerance float64) bool {
	all := len(vs) > 0
	fmt.Fprintf(w, "\ndriver resident memory (VmRSS), baseline vs end, allowed change ±%.0f%%:\n", tolerance*100)
	fmt.Fprintf(w, "  %-16s %8s %9s %10s %10s %10s %8s  %s\n", "run", "life", "base at", "base MiB", "end MiB", "peak MiB", "change", "verdict")
	for _, v := range vs {
		verdict := "ok"
		if !v.ok {
			verdict, all = "FAIL", false
		}
		if v.note != "" {
			verdict += " (" + v.note + ")"
		}
		fmt.Fprintf(w, "  %-16s %8s %9s %10.1f %10.1f %10.1f %+7.1f%%  %s\n", v.name, v.life.Round(time.Second), v.baseAt.Round(time.Second),
			mib(v.base), mib(v.end), mib(v.peak), 100*v.change, verdict)
		if len(v.timeline) > 0 {
			var pts []string
			for _, r := range v.timeline {
				pts = append(pts, fmt.Sprintf("%.1f", mib(r)))
			}
			fmt.Fprintf(w, "  %-16s MiB from the baseline to the end: %s\n", "", strings.Join(pts, " "))
		}
	}
	if len(vs) == 0 {
		fmt.Fprintln(w, "  (no driver process was seen)")
	}
	return all
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// isDriver reports whether a matrix child is a run (not an init).
func isDriver(p *proc) bool { return !strings.HasPrefix(p.name, "init-") }
