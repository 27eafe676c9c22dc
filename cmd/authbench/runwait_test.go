package main

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// cleanTick is a per-second line of a transfer with no failed and no
// retried transaction.
var cleanTick = regexp.MustCompile(`^\s+\d+\.0s\s+0\s+0\s.* transfer$`)

// drain discards the stdout lines read so far, so that only later lines
// count.
func (r *backgroundRun) drain() {
	for {
		select {
		case <-r.lines:
		default:
			return
		}
	}
}

// waitClean waits for n clean per-second lines in a row: the run has
// recovered from whatever the test did to it, however long that took.
func (r *backgroundRun) waitClean(t *testing.T, n int) {
	t.Helper()
	for clean := 0; clean < n; {
		if cleanTick.MatchString(waitMatch(t, r, anyTick)[0]) {
			clean++
		} else {
			clean = 0
		}
	}
}

// interrupt stops the run as Ctrl-C does and checks that it ended as an
// interrupted run (exit 1), which still writes its summary and files.
func (r *backgroundRun) interrupt(t *testing.T) {
	t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGINT)
	<-r.done
	if code := r.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(r.stderr.String(), "interrupted") {
		t.Fatalf("interrupted run exited %d, want 1 with an \"interrupted\" line:\nstdout:\n%s\nstderr:\n%s", code, r.stdout.String(), r.stderr.String())
	}
}
