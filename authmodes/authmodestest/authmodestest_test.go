package authmodestest

import (
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/authmodes"
)

var (
	_ authmodes.EventSink = (*Recorder)(nil)
	_ authmodes.PhaseSink = (*Recorder)(nil)
)

func TestRecorderKeepsEventsAndPhases(t *testing.T) {
	r := &Recorder{}
	r.Event("login", "vault", "lease a", false)
	r.Event("rotation", "vault", "lease b", true)
	r.Phase("credential", time.Millisecond)
	if got := r.Kind("rotation"); len(got) != 1 || got[0].Detail != "lease b" || !got[0].Rotation {
		t.Errorf("rotation events %v", got)
	}
	if got := r.Phases("credential"); len(got) != 1 || got[0] != time.Millisecond {
		t.Errorf("phases %v", got)
	}
	if want := "login vault lease a\nrotation vault lease b (rotation)\n"; r.Text() != want {
		t.Errorf("text %q, want %q", r.Text(), want)
	}
}

func TestWaitForWakesOnEvents(t *testing.T) {
	r := &Recorder{}
	done := make(chan []Event)
	go func() { done <- r.WaitKind(t, "renewal", 2, time.Minute) }()
	for i := 0; i < 3; i++ {
		r.Event("renewal", "gssapi", strings.Repeat("x", i), true)
	}
	if got := <-done; len(got) < 2 {
		t.Errorf("WaitKind returned %v", got)
	}
}
