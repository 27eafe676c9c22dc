package stacktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	exeOnce sync.Once
	exePath string
	exeErr  string
)

// Exe returns an authbench binary built once per test process, for the
// stack's built-in servers (`authbench stack serve-…`) and for tests that
// run the CLI. It is removed when the process exits only if the test
// calls Cleanup; the OS temp dir takes care of the rest.
func Exe(t testing.TB) string {
	t.Helper()
	exeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "authbench-bin-")
		if err != nil {
			exeErr = err.Error()
			return
		}
		_ = os.Chmod(dir, 0o755)
		exePath = filepath.Join(dir, "authbench")
		out, err := exec.Command("go", "build", "-o", exePath, "github.com/authbench/authbench/cmd/authbench").CombinedOutput()
		if err != nil {
			exeErr = "go build authbench: " + err.Error() + ": " + string(out)
		}
	})
	if exeErr != "" {
		t.Fatal(exeErr)
	}
	return exePath
}
