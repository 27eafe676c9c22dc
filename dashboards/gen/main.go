// Command gen writes the Grafana dashboards that package dashboards
// builds into the dashboards directory (its parent, or -dir).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/authbench/authbench/dashboards"
)

func main() {
	dir := flag.String("dir", ".", "directory to write the dashboards into")
	flag.Parse()
	files, err := dashboards.Files()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
