package stacktest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
// run the CLI. Every test process builds into a temporary name and renames
// it onto one shared path per source tree (so that tests of two checkouts
// running at once never run each other's binary), so nothing accumulates
// in the temp dir; a server still running an older copy keeps its own
// (renaming never touches it).
func Exe(t testing.TB) string {
	t.Helper()
	exeOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "authbench-test-bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			exeErr = err.Error()
			return
		}
		tmp := filepath.Join(dir, fmt.Sprintf("authbench.%d", os.Getpid()))
		out, err := exec.Command("go", "build", "-o", tmp, "github.com/authbench/authbench/cmd/authbench").CombinedOutput()
		if err != nil {
			exeErr = "go build authbench: " + err.Error() + ": " + string(out)
			return
		}
		exePath = filepath.Join(dir, "authbench-"+moduleTag())
		if err := os.Rename(tmp, exePath); err != nil {
			exeErr = err.Error()
		}
	})
	if exeErr != "" {
		t.Fatal(exeErr)
	}
	return exePath
}

// moduleTag names the source tree the test runs in: a short hash of the
// directory holding go.mod.
func moduleTag() string {
	dir, err := os.Getwd()
	if err != nil {
		return "unknown"
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir = d
			break
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	sum := sha256.Sum256([]byte(dir))
	return hex.EncodeToString(sum[:6])
}
