package bench

import (
	"math"
	"slices"
)

// spread is the median of a set of values and its range.
type spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"` // values summarised; 0 leaves the others 0
}

// spreadOf summarises vs; NaN values (a ratio with a zero denominator)
// are left out.
func spreadOf(vs []float64) spread {
	var ok []float64
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			ok = append(ok, v)
		}
	}
	if len(ok) == 0 {
		return spread{}
	}
	slices.Sort(ok)
	return spread{Median: median(ok), Min: ok[0], Max: ok[len(ok)-1], N: len(ok)}
}

// median of sorted values: the middle one, or the mean of the two middle ones.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// ratio is a/b, NaN when b is zero.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}
