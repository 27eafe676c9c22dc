// Package capacity is the capacity search, pure: it parses an objective
// (`p99<=50ms,errors<=0.1%`), judges one measured step against it, decides
// from the past steps which rate to offer next, and tells from per-second
// numbers whether a step is clearly lost and may end early. It measures
// nothing and knows no database; capacity/runner runs the steps.
//
// The search starts below a ceiling (the throughput of a short closed-loop
// probe: the same workers cannot offer more), rises geometrically until a
// step breaks the objective, then bisects the bracket between the highest
// passing and the lowest failing rate until it is within the precision or
// the steps run out. It says so honestly when no step passed and when no
// step failed up to the ceiling.
package capacity
