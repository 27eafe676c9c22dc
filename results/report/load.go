package report

import (
	"fmt"
	"path/filepath"

	"github.com/authbench/authbench/results"
)

// Run is one run directory as the report shows it.
type Run struct {
	Dir     string
	Label   string // "workload / auth_mode", made unique among the runs shown
	Summary *results.Summary
	Ticks   []results.Tick
}

// Load reads the run directories named by paths; a directory without
// summary.json that holds run directories (a matrix directory) stands for
// them. Each error is one line naming the file at fault.
func Load(paths []string) ([]Run, error) {
	dirs, err := results.RunDirs(paths)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var runs []Run
	for _, d := range dirs {
		if clean := filepath.Clean(d); seen[clean] {
			continue
		} else {
			seen[clean] = true
		}
		s, err := results.ReadSummary(d)
		if err != nil {
			return nil, err
		}
		ticks, err := results.ReadRunTicks(d)
		if err != nil {
			return nil, err
		}
		label := s.Workload + " / " + s.AuthMode
		if shape := s.Shape(); shape != "" {
			label += " / " + shape // two shapes are never compared by accident
		}
		runs = append(runs, Run{Dir: d, Label: label, Summary: s, Ticks: ticks})
	}
	uniqueLabels(runs)
	return runs, nil
}

// uniqueLabels adds the directory name to labels that several runs share,
// and a number when that is not enough.
func uniqueLabels(runs []Run) {
	count := map[string]int{}
	for _, r := range runs {
		count[r.Label]++
	}
	used := map[string]bool{}
	for i := range runs {
		if count[runs[i].Label] > 1 {
			runs[i].Label += " (" + filepath.Base(runs[i].Dir) + ")"
		}
		base := runs[i].Label
		for n := 2; used[runs[i].Label]; n++ {
			runs[i].Label = fmt.Sprintf("%s #%d", base, n)
		}
		used[runs[i].Label] = true
	}
}
