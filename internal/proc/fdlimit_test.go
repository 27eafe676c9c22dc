package proc

import (
	"strings"
	"syscall"
	"testing"
)

func TestRaiseFDLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if got, err := RaiseFDLimit(lim.Cur, "a test"); err != nil || got < lim.Cur {
		t.Errorf("a need within the soft limit: %d, %v", got, err)
	}
	if got, err := RaiseFDLimit(lim.Max, "a test"); err != nil || got != lim.Max {
		t.Errorf("a need up to the hard limit: soft limit %d, %v; want it raised to %d", got, err, lim.Max)
	}
	if lim.Max == ^uint64(0) { // unlimited
		return
	}
	_, err := RaiseFDLimit(lim.Max+1, "a fleet of 9 connections")
	if err == nil || !strings.Contains(err.Error(), "ulimit -Hn") || !strings.Contains(err.Error(), "a fleet of 9 connections") {
		t.Errorf("a need above the hard limit: %v, want one line naming what needs it and ulimit -Hn", err)
	}
}
