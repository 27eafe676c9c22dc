package main

import (
	"errors"

	"github.com/authbench/authbench/stack"
)

// stackHint is what to run for a problem the stack package reports as a
// *stack.StackError ("" for other errors): library packages name no
// command, the CLI does.
func stackHint(err error) string {
	var se *stack.StackError
	if !errors.As(err, &se) {
		return ""
	}
	switch {
	case errors.Is(se, stack.ErrNoStack), errors.Is(se, stack.ErrNotRunning):
		return ": run `authbench stack up`"
	case errors.Is(se, stack.ErrCorruptState):
		return ": run `authbench stack down` and remove " + se.Dir
	case errors.Is(se, stack.ErrComponentOff):
		return ": run `authbench stack up` without --without " + se.Component
	case errors.Is(se, stack.ErrStaleFile):
		return " (run `authbench stack up` to recreate it)"
	case errors.Is(se, stack.ErrInUse):
		return ": stop it with `authbench stack down`, then run `authbench stack up`"
	}
	return ""
}
