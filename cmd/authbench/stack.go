package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/stack"
)

const stackUsage = "stack up|down|status|env [--dir DIR]"

func runStack(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("stack")
	dir := fs.String("dir", envOr("AUTHBENCH_STACK_DIR", ".stack"), "state directory of the local stack [$AUTHBENCH_STACK_DIR]")
	var parts stackParts
	parts.register(fs)
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := parseFlags(fs, stackUsage, args, stdout); err != nil {
			return err
		}
		return usagef("missing subcommand: authbench %s", stackUsage)
	}
	sub, rest := args[0], args[1:]
	if srv, ok := serveCommand(sub); ok {
		return serveComponent(ctx, sub, srv, rest, stdout)
	}
	if err := parseFlags(fs, stackUsage, rest, stdout); err != nil {
		return err
	}
	switch sub {
	case "up":
		return stackUp(ctx, *dir, &parts, stdout, stderr)
	case "down":
		if err := stack.Down(*dir, stderr); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "stack in %s stopped\n", *dir)
		return nil
	case "status":
		return stackStatus(*dir, stdout)
	case "env":
		return stackEnv(*dir, stdout)
	}
	return usagef("unknown stack subcommand %q: use up, down, status or env", sub)
}

// serveCommand returns the component whose built-in server
// `stack serve-<name>` runs in the foreground; `stack up` starts it as a
// detached child.
func serveCommand(sub string) (stack.Server, bool) {
	name, ok := strings.CutPrefix(sub, "serve-")
	if !ok {
		return nil, false
	}
	c, ok := stack.Lookup(name)
	if !ok {
		return nil, false
	}
	srv, ok := c.(stack.Server)
	return srv, ok
}

// serveComponent parses a serve command's --dir, loads that stack's state
// and runs the component's server until SIGTERM or SIGINT.
func serveComponent(ctx context.Context, sub string, srv stack.Server, args []string, stdout io.Writer) error {
	name := "stack " + sub
	fs := newFlagSet(name)
	dir := fs.String("dir", envOr("AUTHBENCH_STACK_DIR", ".stack"), "state directory of the local stack [$AUTHBENCH_STACK_DIR]")
	if err := parseFlags(fs, name+" --dir DIR", args, stdout); err != nil {
		return err
	}
	st, err := stack.Load(*dir)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, st, stdout)
}

func stackUp(ctx context.Context, dir string, parts *stackParts, stdout, stderr io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find the authbench binary to run the built-in servers: %v", err)
	}
	cfg := stack.Config{Dir: dir, Users: stack.DefaultUsers(), Exe: exe}
	if err := parts.apply(&cfg); err != nil {
		return &usageError{msg: err.Error()}
	}
	st, err := stack.Up(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	if err := stackStatus(st.Dir, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nnext: eval \"$(%s stack env --dir %s)\"\n", invokedAs(), dir)
	return nil
}

// invokedAs is how to call this binary again in a hint: the path it was
// run by (bin/authbench under make) or, when found on PATH, its name.
func invokedAs() string {
	if strings.Contains(os.Args[0], "/") {
		return os.Args[0]
	}
	return "authbench"
}

func stackStatus(dir string, stdout io.Writer) error {
	comps, err := stack.Status(dir)
	if err != nil {
		return err
	}
	down, width := 0, 12
	for _, c := range comps {
		width = max(width, len(c.Name))
	}
	for _, c := range comps {
		state := "running"
		if !c.Running {
			state, down = "stopped", down+1
		}
		line := fmt.Sprintf("%-*s %-8s pid %-7d %s", width, c.Name, state, c.PID, c.Address)
		if c.Detail != "" {
			line = fmt.Sprintf("%-*s %s", width+40, line, c.Detail)
		}
		fmt.Fprintln(stdout, line)
	}
	if down > 0 {
		return fmt.Errorf("%d component(s) of the stack in %s are stopped: run `authbench stack up`", down, dir)
	}
	return nil
}

// stackEnv prints shell exports for every setting the other commands read.
// Secrets stay in their files: only paths are exported.
func stackEnv(dir string, stdout io.Writer) error {
	st, err := stack.Load(dir)
	if err != nil {
		return err
	}
	for _, e := range st.Env() {
		fmt.Fprintf(stdout, "export %s=%s\n", e.Name, shellQuote(e.Value))
	}
	return nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// stackParts are the components' flags of `stack up`: each component
// registers its own (stack.FlagOwner); --without leaves out those that are
// on by default.
type stackParts struct {
	without   []string
	clientCAs []string
	settings  map[string]func() (any, error)
}

func (p *stackParts) register(fs *pflag.FlagSet) {
	p.settings = map[string]func() (any, error){}
	fs.StringSliceVar(&p.without, "without", nil, "components to leave out: "+strings.Join(omittable(), ", "))
	fs.StringArrayVar(&p.clientCAs, "client-ca", nil, "a PEM file of CAs PostgreSQL trusts client certificates of, kept by every later stack up (repeatable; e.g. the bundle of a SPIRE the stack does not run)")
	for _, c := range stack.Components() {
		if f, ok := c.(stack.FlagOwner); ok {
			p.settings[c.Name()] = f.AddFlags(fs)
		}
	}
}

// checkClientCA returns the absolute path of a --client-ca file that holds
// PEM certificates.
func checkClientCA(file string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", fmt.Errorf("--client-ca %s: %w", file, err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return "", fmt.Errorf("--client-ca %s: cannot read it: %w; pass a readable PEM file of CA certificates", file, errors.Unwrap(err))
	}
	if block, _ := pem.Decode(data); block == nil || block.Type != "CERTIFICATE" {
		return "", fmt.Errorf("--client-ca %s holds no PEM certificate: pass a PEM bundle (e.g. spire-server bundle show -format pem)", file)
	}
	return abs, nil
}

// omittable returns the components `stack up` runs unless --without.
func omittable() []string {
	var out []string
	for _, c := range stack.Components() {
		if d, ok := c.(stack.DefaultOn); ok && d.DefaultOn() {
			out = append(out, c.Name())
		}
	}
	return out
}

// apply enables in cfg the components the flags ask for and adds the
// --client-ca files.
func (p *stackParts) apply(cfg *stack.Config) error {
	for _, f := range p.clientCAs {
		abs, err := checkClientCA(f)
		if err != nil {
			return err
		}
		cfg.ClientCAs = append(cfg.ClientCAs, abs)
	}
	names := omittable()
	skip := map[string]bool{}
	for _, w := range p.without {
		if !slices.Contains(names, w) {
			return fmt.Errorf("unknown component %q in --without: use %s", w, orList(names))
		}
		skip[w] = true
	}
	for _, c := range stack.Components() {
		get, ok := p.settings[c.Name()]
		if !ok || skip[c.Name()] {
			continue
		}
		settings, err := get()
		if err != nil {
			return err
		}
		if settings != nil {
			cfg.Enable(c.Name(), settings)
		}
	}
	return nil
}

// orList renders names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
