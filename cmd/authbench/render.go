package main

import (
	"github.com/authbench/authbench/fix"
)

// cliRefs renders the settings and commands that library errors and the
// doctor's checks refer to as this command line spells them: --keytab,
// authbench stack up.
var cliRefs fix.Renderer = cliRenderer{}

type cliRenderer struct{}

// Flag renders a setting as its flag.
func (cliRenderer) Flag(f fix.Flag) string { return "--" + string(f) }

// Command renders a command with the program's name.
func (cliRenderer) Command(c fix.Command) string { return "authbench " + string(c) }

// cliText is err's message with its references rendered as flags and
// commands.
func cliText(err error) string { return fix.Render(err, cliRefs) }
