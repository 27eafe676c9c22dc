package faults

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/authbench/authbench/results"
)

// FaultAt returns the row of the fault table whose errors-began event is
// the first one at or after the second in which a fault was injected
// (the event is stamped at the start of the second that had the errors).
func FaultAt(s *results.Summary, injected time.Time) (*results.RotationImpact, error) {
	for _, e := range s.Events {
		if e.Kind != results.FaultEvent || e.Time.Before(injected.Add(-1200*time.Millisecond)) {
			continue
		}
		for i := range s.Faults {
			if s.Faults[i].Elapsed == e.Elapsed {
				return &s.Faults[i], nil
			}
		}
		return nil, fmt.Errorf("errors-began event %+v has no row in the fault table %+v", e, s.Faults)
	}
	return nil, fmt.Errorf("no errors-began event after the fault at %s; events %+v", injected.Format(time.StampMilli), s.Events)
}

// Classified checks the run's errors, retried or not, include one of the
// classes wanted and none the driver could not classify.
func Classified(s *results.Summary, classes ...string) error {
	seen := false
	for _, c := range classes {
		seen = seen || s.Retried[c] > 0 || s.Errors[c] > 0
	}
	switch {
	case !seen:
		return fmt.Errorf("no error of class %v: retried %v, failed %v", classes, s.Retried, s.Errors)
	case s.Retried["other"] > 0 || s.Errors["other"] > 0:
		return fmt.Errorf("errors the driver could not classify: retried %v, failed %v", s.Retried, s.Errors)
	}
	return nil
}

// EndsClean checks the run in dir committed ops without an error in its
// last two full seconds: the driver kept going and got over the fault.
func EndsClean(dir string) error {
	ticks, err := results.ReadTicks(filepath.Join(dir, results.TicksFile))
	if err != nil {
		return err
	}
	var full []results.Tick
	for _, tk := range ticks {
		if tk.IntervalS >= 0.9 {
			full = append(full, tk)
		}
	}
	if len(full) < 2 {
		return fmt.Errorf("%d full seconds in %s", len(full), results.TicksFile)
	}
	for _, tk := range full[len(full)-2:] {
		var ok, failed int64
		for _, op := range tk.Ops {
			ok, failed = ok+op.Count, failed+op.Errors
		}
		if failed != 0 || ok == 0 {
			return fmt.Errorf("second ending %.0fs: %d committed, %d failed; want clean seconds at the end", tk.Elapsed, ok, failed)
		}
	}
	return nil
}
