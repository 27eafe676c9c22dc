package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/results/report/reporttest"
)

func TestDocTableFindingsAndCharts(t *testing.T) {
	root := t.TempDir()
	var rows []row
	for i, style := range []string{"synchronised", "spread 20s"} {
		dir := filepath.Join(root, "run", style)
		if _, err := reporttest.Write(dir, reporttest.Spec{Auth: "vault", Seconds: 20, Rotate: []int{8}, Seed: uint64(i)}); err != nil {
			t.Fatal(err)
		}
		r, err := readRow(dir, "vault", style, []string{"sync", "spread"}[i])
		if err != nil {
			t.Fatal(err)
		}
		if r.found {
			t.Fatalf("%s: a mode's own rotation taken for the forced one", style)
		}
		// The experiment's runs have a forced rotation; give these one.
		r.found, r.rot = true, results.RotationImpact{Kind: results.ForcedRotation, PeakConnectsS: int64(400 / (i + 1)), ConnFailures: 3,
			HandshakeP99: 90, TxnP99: 40, RecoveryS: -1, InstancesShare: 1}
		rows = append(rows, r)
	}
	o := &options{instances: 100, poolSize: 20, concurrency: 40, maxRate: 200, doc: filepath.Join(root, "docs", "rotation-storms.md")}
	if err := writeDoc(o, rows, "test machine"); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(o.doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| vault | synchronised | 400 | 0 | 90 | 40 | ",
		"| never | 100 % |",
		"| vault | spread 20s | 200 |",
		"the synchronised rotation peaked at 400 connects/s",
		"(rotation-storms/vault-spread-connects.svg)",
		"Machine: test machine.",
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("the document lacks %q:\n%s", want, doc)
		}
	}
	svg, err := os.ReadFile(filepath.Join(root, "docs", "rotation-storms", "vault-sync-open-connections.svg"))
	if err != nil || !strings.HasPrefix(string(svg), "<?xml") {
		t.Errorf("open-connections chart: %v, want an SVG file", err)
	}
}
