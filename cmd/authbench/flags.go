package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/workloads"
)

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints nothing on its own.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolP("help", "h", false, "show this help")
	return fs
}

// parseFlags parses args; --help prints usage to stdout and returns errHelp,
// a bad flag becomes a usage error that names the command's --help.
func parseFlags(fs *pflag.FlagSet, usage string, args []string, stdout io.Writer) error {
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) || (err == nil && mustBool(fs, "help")) {
		fmt.Fprintf(stdout, "usage: authbench %s\n\n%s", usage, flagUsages(fs))
		return errHelp
	}
	if err != nil {
		if err := otherModesFlag(fs, err); err != nil {
			return err
		}
		return usagef("%v%s (see `authbench %s --help`)", err, flagHint(fs, err), fs.Name())
	}
	return nil
}

// otherModesFlag turns an unknown flag that belongs to an auth mode the
// command did not select into one line naming that mode, or returns nil.
func otherModesFlag(fs *pflag.FlagSet, err error) error {
	auth := fs.Lookup("auth")
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok || auth == nil || auth.Annotations[modeAnnotation] == nil {
		return nil
	}
	mode := modeFlagOwners(true)[name]
	if mode == "" {
		return nil
	}
	return usagef("--%s belongs to --auth %s, not to the selected --auth %s: add --auth %s or leave --%s out",
		name, mode, strings.Join(auth.Annotations[modeAnnotation], ","), mode, name)
}

func mustBool(fs *pflag.FlagSet, name string) bool {
	v, _ := fs.GetBool(name)
	return v
}

// validateWorkload checks the workload's flags once parsed, before anything
// connects: a bad value is a usage error.
func validateWorkload(w workloads.Workload) error {
	if v, ok := w.(workloads.Validator); ok {
		if err := v.Validate(); err != nil {
			return &usageError{msg: err.Error()}
		}
	}
	return nil
}

// workloadArg pulls the workload name, which must come first, out of args
// and returns the workload with its flags added to fs.
func workloadArg(cmd string, args []string, fs *pflag.FlagSet) (workloads.Workload, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if slices.Contains(args, "--help") || slices.Contains(args, "-h") {
			return nil, args, nil // help for the command (e.g. run --auth gssapi --help)
		}
		return nil, nil, usagef("missing workload: authbench %s WORKLOAD (one of %s)", cmd, strings.Join(workloads.Names(), ", "))
	}
	meta, err := workloads.Lookup(args[0])
	if err != nil {
		return nil, nil, &usageError{msg: err.Error()}
	}
	w := meta.New()
	fs.AddFlagSet(w.Flags())
	return w, args[1:], nil
}
