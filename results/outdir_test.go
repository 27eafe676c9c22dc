package results

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/authbench/authbench/fix"
)

// flagRefs renders references as the CLI does, for checking the fix.
type flagRefs struct{}

func (flagRefs) Flag(f fix.Flag) string       { return "--" + string(f) }
func (flagRefs) Command(c fix.Command) string { return "authbench " + string(c) }

// An output directory that cannot be created gives a *fix.Error that keeps
// the cause in the chain and points at the out setting.
func TestOutDirErrorKeepsCauseAndNamesOut(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, runErr := CreateRunFiles(filepath.Join(file, "run"), []string{"op"}, 0)
	mergeErr := (&Merged{}).Write(filepath.Join(file, "merged"))
	for _, err := range []error{runErr, mergeErr} {
		if !errors.Is(err, syscall.ENOTDIR) {
			t.Errorf("%v: cause lost from the chain", err)
		}
		if !fix.Refers(err, fix.Flag("out")) {
			t.Errorf("%v: does not refer to the out setting", err)
		}
		if got := fix.Render(err, flagRefs{}); !strings.Contains(got, "choose another with --out") || strings.Contains(got, "\n") {
			t.Errorf("rendered %q, want one line saying to choose another --out", got)
		}
	}
}
