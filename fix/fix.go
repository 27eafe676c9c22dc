// Package fix carries errors that say which step failed and how to repair
// it, and texts that refer to settings and commands by name without
// spelling them as a command line would. Library packages (the auth modes,
// the doctor) build them; the CLI renders the references as its flags
// (--keytab) and commands (authbench stack up), so that no library names
// a flag or a command itself.
package fix

import (
	"errors"
	"fmt"
	"strings"
)

// Flag refers to a setting by name, e.g. Flag("keytab"); the CLI renders
// it as --keytab.
type Flag string

// Command refers to a command of the tool, e.g. Command("stack up"); the
// CLI renders it with the program's name.
type Command string

// Renderer turns references into text.
type Renderer interface {
	Flag(Flag) string
	Command(Command) string
}

// Plain renders references without a command line's syntax: "the keytab
// setting", "stack up". Error and String use it.
var Plain Renderer = plain{}

type plain struct{}

func (plain) Flag(f Flag) string       { return "the " + string(f) + " setting" }
func (plain) Command(c Command) string { return string(c) }

// Text is a message that may refer to settings and commands; it is
// rendered when printed.
type Text struct {
	format string
	args   []any
}

// Textf returns a Text formatted as fmt.Sprintf would, with every Flag,
// Command, Text and error among args rendered by the Renderer in use.
func Textf(format string, args ...any) Text { return Text{format: format, args: args} }

// IsZero reports whether t is empty.
func (t Text) IsZero() bool { return t.format == "" && len(t.args) == 0 }

// String renders t with Plain.
func (t Text) String() string { return t.Render(Plain) }

// Render renders t with r.
func (t Text) Render(r Renderer) string {
	if len(t.args) == 0 {
		return t.format
	}
	args := make([]any, len(t.args))
	for i, a := range t.args {
		args[i] = renderArg(a, r)
	}
	return fmt.Sprintf(t.format, args...)
}

func renderArg(a any, r Renderer) any {
	switch v := a.(type) {
	case Flag:
		return r.Flag(v)
	case Command:
		return r.Command(v)
	case Text:
		return v.Render(r)
	case Renderable:
		return v.RenderText(r)
	case error:
		return Render(v, r)
	}
	return a
}

// Renderable is an argument of Textf that renders itself, e.g. an error's
// message trimmed for a line, keeping its references.
type Renderable interface {
	RenderText(Renderer) string
}

// Refers reports whether t names ref (a Flag or a Command), directly or in
// a nested Text or *Error.
func (t Text) Refers(ref any) bool {
	for _, a := range t.args {
		switch v := a.(type) {
		case Flag, Command:
			if v == ref {
				return true
			}
		case Text:
			if v.Refers(ref) {
				return true
			}
		case detailOf:
			if v.e.What.Refers(ref) {
				return true
			}
		case error:
			var e *Error
			if errors.As(v, &e) && (e.What.Refers(ref) || e.Fix.Refers(ref)) {
				return true
			}
		}
	}
	return false
}

// Error is a failure of one step, what is wrong and how to repair it. Its
// cause stays in the chain (Unwrap), so errors.Is and errors.As see
// through it.
type Error struct {
	// Step names what was being done, e.g. "keytab" or "vault-login".
	Step string
	// What says what is wrong; when zero, Err's message does.
	What Text
	// Err is the cause; may be nil when What says everything.
	Err error
	// Fix says how to repair it; zero when What already does.
	Fix Text
	// Credential marks credentials that could not be obtained or were
	// refused (CredentialFailure).
	Credential bool
}

// Error renders the error with Plain: "what: fix".
func (e *Error) Error() string { return e.Render(Plain) }

// Render renders the error with r: what is wrong, then ": " and the fix.
func (e *Error) Render(r Renderer) string {
	what := e.What.Render(r)
	if e.What.IsZero() && e.Err != nil {
		what = Render(e.Err, r)
	}
	if e.Fix.IsZero() {
		return what
	}
	return what + ": " + e.Fix.Render(r)
}

// Detail renders what is wrong, without the fix.
func (e *Error) Detail(r Renderer) string {
	if e.What.IsZero() && e.Err != nil {
		return Render(e.Err, r)
	}
	return e.What.Render(r)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// CredentialFailure reports whether credentials could not be obtained or
// were refused; the driver classifies such errors as auth errors.
func (e *Error) CredentialFailure() bool { return e.Credential }

// Render renders err's message with r: the first *Error in err's chain is
// rendered with r, inside whatever text the outer errors add.
func Render(err error, r Renderer) string {
	if err == nil {
		return ""
	}
	if e, ok := err.(*Error); ok {
		return e.Render(r)
	}
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	return strings.Replace(err.Error(), e.Error(), e.Render(r), 1)
}

// Errorf returns an *Error whose What is Textf(format, args...) and whose
// Err is the first error among args, so that the chain is kept.
func Errorf(format string, args ...any) *Error {
	e := &Error{What: Textf(format, args...)}
	for _, a := range args {
		if err, ok := a.(error); ok {
			e.Err = err
			break
		}
	}
	return e
}

// Split returns what is wrong and how to repair it: from the first *Error
// in err's chain (what the outer errors add stays in the detail), else
// all of err's message as the detail and no fix.
func Split(err error) (detail, fix Text) {
	e, ok := As(err)
	if !ok {
		return Textf("%v", err), Text{}
	}
	return Textf("%v", detailOf{err: err, e: e}), e.Fix
}

// detailOf renders err with e, the *Error in its chain, without e's fix.
type detailOf struct {
	err error
	e   *Error
}

// RenderText renders the detail with r.
func (d detailOf) RenderText(r Renderer) string {
	detail := d.e.Detail(r)
	if d.err == error(d.e) {
		return detail
	}
	return strings.Replace(d.err.Error(), d.e.Error(), detail, 1)
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Credential marks err as a credential failure: a *fix.Error at its head
// is copied with Credential set, any other error is wrapped in one; nil
// stays nil.
func Credential(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		c := *e
		c.Credential = true
		return &c
	}
	return &Error{Err: err, Credential: true}
}

// Refers reports whether the first *Error in err's chain names every one
// of refs (Flag or Command values) in what is wrong or in its fix.
func Refers(err error, refs ...any) bool {
	e, ok := As(err)
	if !ok {
		return false
	}
	for _, r := range refs {
		if !e.What.Refers(r) && !e.Fix.Refers(r) {
			return false
		}
	}
	return true
}
