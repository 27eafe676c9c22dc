package proc

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	comm, st, ok := parseStat("4845 (krb5 kdc)) Z 1 4845 4845 0")
	if !ok || comm != "krb5 kdc)" || st != "Z" {
		t.Fatalf("parseStat = %q %q %v", comm, st, ok)
	}
	if _, _, ok := parseStat("garbage"); ok {
		t.Error("parseStat accepted a line without (comm)")
	}
}

func TestLastLine(t *testing.T) {
	for text, want := range map[string]string{
		"a\n2026-01-01 UTC [42] FATAL:  could not bind\nb\n": "FATAL: could not bind",
		"[NOTICE] x\n[ALERT] y\n[NOTICE] z":                  "[ALERT] y",
		"one\ntwo\n\n":                                       "two",
	} {
		if got := LastLine(text); got != want {
			t.Errorf("LastLine(%q) = %q, want %q", text, got, want)
		}
	}
}

// TestStartWaitStop runs a real shell server through the whole cycle: it
// becomes ready once it logs its line, lives, and is gone after Stop even
// though it ignores SIGTERM (SIGKILL as the last resort).
func TestStartWaitStop(t *testing.T) {
	dir := t.TempDir()
	log, pidFile := filepath.Join(dir, "srv.log"), filepath.Join(dir, "srv.pid")
	cmd := Command(context.Background(), nil, dir, "sh", "-c", `trap "" TERM; echo serving; while :; do sleep 1; done`)
	started, err := Start(Spec{Name: "srv", Cmd: cmd, LogFile: log, PIDFile: pidFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-started.PID, syscall.SIGKILL) })
	if ReadPID(pidFile) != started.PID {
		t.Fatalf("pid file holds %d, want %d", ReadPID(pidFile), started.PID)
	}
	err = WaitReady(context.Background(), Ready{Name: "srv", PID: started.PID, LogFile: log, Timeout: time.Minute,
		Probe: func(out string) bool { return strings.Contains(out, "serving") }})
	if err != nil {
		t.Fatal(err)
	}
	if !Alive(started.PID) || Comm(started.PID) != "sh" {
		t.Fatalf("pid %d: alive %v comm %q", started.PID, Alive(started.PID), Comm(started.PID))
	}
	if err := Stop(started.PID, syscall.SIGTERM, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if Alive(started.PID) {
		t.Error("still alive after Stop")
	}
}

// TestWaitReadyExit reports a server that exits before it is ready with
// the telling line of its log.
func TestWaitReadyExit(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "srv.log")
	if err := os.WriteFile(log, []byte("old run: error from before\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := Command(context.Background(), nil, dir, "sh", "-c", `echo "error: port taken"; exit 1`)
	started, err := Start(Spec{Name: "srv", Cmd: cmd, LogFile: log, PIDFile: filepath.Join(dir, "srv.pid")})
	if err != nil {
		t.Fatal(err)
	}
	err = WaitReady(context.Background(), Ready{Name: "srv", PID: started.PID, LogFile: log, LogOffset: started.LogOffset,
		Timeout: time.Minute, Probe: func(string) bool { return false }})
	if err == nil || !strings.Contains(err.Error(), "srv exited at start: error: port taken") {
		t.Errorf("WaitReady error %v, want the exit with this run's last line", err)
	}
}
