package stack

import "errors"

// Errors a StackError wraps; the CLI tells the user what to run for each.
var (
	// ErrNoStack: there is no stack in the directory.
	ErrNoStack = errors.New("no stack")
	// ErrCorruptState: state.json does not parse.
	ErrCorruptState = errors.New("corrupt stack state")
	// ErrNotRunning: a server of the stack is not running.
	ErrNotRunning = errors.New("not running")
	// ErrComponentOff: the stack does not have the component asked for.
	ErrComponentOff = errors.New("component not enabled")
	// ErrStaleFile: a file the stack made is missing or empty.
	ErrStaleFile = errors.New("stack file missing or empty")
	// ErrInUse: another process holds a server's address.
	ErrInUse = errors.New("address in use")
)

// StackError is a problem with the stack in Dir that `stack up` or
// `stack down` fixes; Err is one of the errors above and says which.
type StackError struct {
	// Dir is the state directory.
	Dir string
	// Component names the component or server concerned ("" for the stack).
	Component string
	// Detail says what was found, e.g. the file and the parse error.
	Detail string
	// Err is ErrNoStack, ErrCorruptState, ErrNotRunning, ErrComponentOff,
	Err error
	// Cause is the error behind Detail, if any.
	Cause error
}

// Error describes the problem without naming a command.
func (e *StackError) Error() string {
	var msg string
	switch e.Err {
	case ErrNoStack:
		msg = "no stack in " + e.Dir
	case ErrCorruptState:
		msg = "the stack state is corrupt"
	case ErrNotRunning:
		msg = e.Component + " is not running"
	case ErrComponentOff:
		msg = "the stack in " + e.Dir + " has no " + e.Component + " component"
	default:
		return e.Detail
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Unwrap returns Err and Cause.
func (e *StackError) Unwrap() []error { return []error{e.Err, e.Cause} }
