package workloads

import (
	"strings"
	"testing"

	"github.com/authbench/authbench/fix"
)

// Reload's error names the init command through fix, never as CLI text.
func TestReloadRefersToInit(t *testing.T) {
	err := Reload("bank", fix.Textf("the bank workload in this database has %d accounts", 1))
	if !fix.Refers(err, fix.Command("init bank")) {
		t.Errorf("%v: does not refer to init bank", err)
	}
	if got := err.Error(); strings.Contains(got, "authbench") || !strings.Contains(got, "has 1 accounts") {
		t.Errorf("plain text %q names the program or lost what is wrong", got)
	}
}
