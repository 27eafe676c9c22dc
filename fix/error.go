package fix

import (
	"errors"
	"strings"
)

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
