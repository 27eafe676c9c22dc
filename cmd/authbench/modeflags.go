package main

import (
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"
)

// modeAnnotation marks, on a command's flag set, each auth mode's flag with
// the mode's name and the --auth flag with the modes it selected.
const modeAnnotation = "authbench/auth-mode"

// authDefault is the auth mode when neither --auth nor $AUTHBENCH_AUTH
// names one.
func authDefault() string { return envOr("AUTHBENCH_AUTH", "cert") }

// addModeFlags adds to fs the flags of the auth modes --auth selects on
// args (one mode, or with list a comma-separated list of them; def when
// args name none), read before parsing so that a command shows and accepts
// only those; the command registers --auth itself, before this call. Each
// mode registers on its own flag set; the returned modes read their flags
// once fs is parsed. A name that is no mode is left to the command's
// validation. A renamed flag's old name prints one deprecation line to
// stderr. Commands with one mode call connFlags.register instead.
func addModeFlags(fs *pflag.FlagSet, args []string, list bool, def []string, stderr io.Writer) map[string]authmodes.Mode {
	selected := scanAuth(args, list, def)
	modes := map[string]authmodes.Mode{}
	for _, name := range selected {
		meta, err := authmodes.Lookup(name)
		if err != nil || modes[name] != nil {
			continue
		}
		own := pflag.NewFlagSet(name, pflag.ContinueOnError)
		modes[name] = meta.New(own)
		own.VisitAll(func(f *pflag.Flag) { annotate(f, name) })
		fs.AddFlagSet(own)
	}
	if f := fs.Lookup("auth"); f != nil {
		annotate(f, selected...)
	}
	fs.SetOutput(stderr) // with ContinueOnError, pflag prints only deprecation lines
	return modes
}

func annotate(f *pflag.Flag, values ...string) {
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[modeAnnotation] = values
}

// scanAuth returns the modes --auth names on args: the last one given, or
// with list every one, each split at commas; def when there is none.
func scanAuth(args []string, list bool, def []string) []string {
	var got []string
	for i := 0; i < len(args) && args[i] != "--"; i++ {
		v, ok := strings.CutPrefix(args[i], "--auth=")
		if !ok && args[i] == "--auth" && i+1 < len(args) {
			v, ok = args[i+1], true
			i++
		}
		switch {
		case !ok:
		case list:
			got = append(got, strings.Split(v, ",")...)
		default:
			got = []string{v}
		}
	}
	if len(got) == 0 {
		return def
	}
	return got
}

// modeFlagOwners maps the flag names every auth mode registers (with old
// also their deprecated old names) to the mode.
func modeFlagOwners(old bool) map[string]string {
	owner := map[string]string{}
	for _, meta := range authmodes.All() {
		fs := pflag.NewFlagSet(meta.Name, pflag.ContinueOnError)
		meta.New(fs)
		fs.VisitAll(func(f *pflag.Flag) {
			if old || f.Deprecated == "" {
				owner[f.Name] = meta.Name
			}
		})
	}
	return owner
}

// modeArgs returns, per auth mode, the mode's flags given on the command
// line as --name=value under their current names, to pass to a child run.
func modeArgs(fs *pflag.FlagSet) map[string][]string {
	out := map[string][]string{}
	seen := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) {
		mode := f.Annotations[modeAnnotation]
		if !f.Changed || len(mode) != 1 || f.Name == "auth" {
			return
		}
		arg := "--" + authmodes.AliasOf(fs, f).Name + "=" + f.Value.String()
		if !seen[arg] {
			seen[arg] = true
			out[mode[0]] = append(out[mode[0]], arg)
		}
	})
	return out
}

// flagUsages is fs's help: the command's own flags, then each selected
// auth mode's, then how to see another mode's.
func flagUsages(fs *pflag.FlagSet) string {
	general := pflag.NewFlagSet(fs.Name(), pflag.ContinueOnError)
	perMode := map[string]*pflag.FlagSet{}
	fs.VisitAll(func(f *pflag.Flag) {
		mode := f.Annotations[modeAnnotation]
		if len(mode) != 1 || f.Name == "auth" {
			general.AddFlag(f)
			return
		}
		if perMode[mode[0]] == nil {
			perMode[mode[0]] = pflag.NewFlagSet(mode[0], pflag.ContinueOnError)
		}
		perMode[mode[0]].AddFlag(f)
	})
	var b strings.Builder
	b.WriteString("flags:\n" + general.FlagUsages())
	names := make([]string, 0, len(perMode))
	for n := range perMode {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.WriteString("\nflags of --auth " + n + ":\n" + perMode[n].FlagUsages())
	}
	if f := fs.Lookup("auth"); f != nil && f.Annotations[modeAnnotation] != nil {
		b.WriteString("\nevery auth mode has its own flags: add --auth MODE to --help for another mode's (MODE: " +
			strings.Join(authmodes.Names(), ", ") + ")\n")
	}
	return b.String()
}
