package report

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/fix"
)

// A report that cannot be written keeps the cause in its chain, refers to
// the out setting (the CLI renders it as its flag) and names no flag itself.
func TestWriteFileErrorKeepsCauseAndFix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "report.html")
	err := WriteFile(path, nil, Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("WriteFile to a missing directory: %v, want fs.ErrNotExist in the chain", err)
	}
	var fe *fix.Error
	if !errors.As(err, &fe) || !fe.Fix.Refers(fix.Flag("out")) {
		t.Fatalf("error %v: want a fix.Error whose fix refers to the out setting", err)
	}
	if strings.Contains(err.Error(), "--out") {
		t.Errorf("library error names the flag itself: %v", err)
	}
}
