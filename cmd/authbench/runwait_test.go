package main

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
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

// cleanLimit bounds waitClean, so that a run that never settles fails the
// test with its output instead of hanging until the run's or the test
// binary's limit; generous, as a clean period on a busy machine may take
// long.
const cleanLimit = 3 * time.Minute

// waitClean waits for n per-second lines in a row matching clean (cleanTick,
// or a rule of the test's own): the run has recovered from whatever the test
// did to it, however long that took.
func (r *backgroundRun) waitClean(t *testing.T, clean *regexp.Regexp, n int) {
	t.Helper()
	deadline := time.Now().Add(cleanLimit)
	for inRow, seen := 0, 0; inRow < n; seen++ {
		if time.Now().After(deadline) {
			lines := strings.Split(strings.TrimSuffix(r.output(), "\n"), "\n")
			t.Fatalf("no %d clean seconds in a row in %d seconds of the run (%s); its last lines:\n%s", n, seen, cleanLimit, strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
		if clean.MatchString(waitMatch(t, r, anyTick)[0]) {
			inRow++
		} else {
			inRow = 0
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

// output is stdout so far; it may be called while the run goes on.
func (r *backgroundRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stdout.String()
}

// result waits for the run to end and returns its output and exit code,
// whatever it was.
func (r *backgroundRun) result() outcome {
	<-r.done
	return outcome{r.stdout.String(), r.stderr.String(), r.cmd.ProcessState.ExitCode()}
}
