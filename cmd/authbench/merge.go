package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/authbench/authbench/results"
)

const mergeUsage = "merge RUN_DIR... --out DIR"

// runMerge combines the run directories of several driver processes into
// one that report and check accept.
func runMerge(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("merge")
	out := fs.String("out", "", "directory to write the merged run to (required; must not hold a run yet)")
	if err := parseFlags(fs, mergeUsage, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("missing run directories: authbench %s", mergeUsage)
	}
	if *out == "" {
		return usagef("missing --out DIR, the directory to write the merged run to: authbench %s", mergeUsage)
	}
	dirs, err := mergeInputs(fs.Args(), *out)
	if err != nil {
		return err
	}
	m, err := results.MergeDirs(dirs)
	if err != nil {
		return err
	}
	for _, w := range m.Warnings {
		fmt.Fprintf(stderr, "authbench merge: warning: %s\n", w)
	}
	if err := m.Write(*out); err != nil {
		return err
	}
	results.PrintSummary(stdout, m.Summary)
	fmt.Fprintf(stdout, "\nmerged %d runs into run directory: %s\n", len(dirs), *out)
	return nil
}

// mergeInputs expands the arguments into run directories and checks that
// there are at least two and that --out is a new directory.
func mergeInputs(args []string, out string) ([]string, error) {
	dirs, err := results.RunDirs(args)
	if err != nil {
		return nil, err
	}
	absOut, _ := filepath.Abs(out)
	for _, d := range dirs {
		if abs, _ := filepath.Abs(d); abs == absOut {
			return nil, usagef("--out %s is one of the runs to merge: choose a new directory", out)
		}
	}
	if len(dirs) < 2 {
		return nil, usagef("merge needs at least two run directories, got %d: authbench %s", len(dirs), mergeUsage)
	}
	if _, err := os.Stat(filepath.Join(out, results.SummaryFile)); err == nil {
		return nil, usagef("--out %s already holds a run: choose a new directory", out)
	}
	return dirs, nil
}
