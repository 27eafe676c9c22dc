package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/authbench/authbench/results/report"
)

const reportUsage = "report RUN_DIR... [--out FILE]"

// runReport writes one self-contained HTML report of the given run
// directories (a matrix directory stands for the runs in it).
func runReport(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("report")
	out := fs.String("out", "", "HTML file to write (default: report.html in the directory holding the first run)")
	title := fs.String("title", "authbench report", "the page's title")
	if err := parseFlags(fs, reportUsage, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("missing run directories: authbench %s", reportUsage)
	}
	runs, err := report.Load(fs.Args())
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = filepath.Join(filepath.Dir(filepath.Clean(runs[0].Dir)), "report.html")
	} else if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "report.html")
	}
	if err := report.WriteFile(path, runs, report.Options{Title: *title}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report of %d run(s): %s\n", len(runs), path)
	return nil
}
