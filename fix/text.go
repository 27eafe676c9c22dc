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
