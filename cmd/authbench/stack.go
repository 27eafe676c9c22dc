package main

import (
	"context"
	"fmt"
	"io"
	"os"
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
	if serve, ok := serveCommands[sub]; ok {
		return serve(ctx, rest, stdout)
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

// serveCommands run the stack's built-in servers in the foreground
// (`authbench stack serve-<name> --dir DIR`); `stack up` starts them as
// detached children. Each registers itself from its own file.
var serveCommands = map[string]func(ctx context.Context, args []string, stdout io.Writer) error{}

// serveState parses a serve command's --dir and loads that stack's state.
func serveState(name, usage string, args []string, stdout io.Writer) (*stack.State, error) {
	fs := newFlagSet(name)
	dir := fs.String("dir", envOr("AUTHBENCH_STACK_DIR", ".stack"), "state directory of the local stack [$AUTHBENCH_STACK_DIR]")
	if err := parseFlags(fs, usage, args, stdout); err != nil {
		return nil, err
	}
	return stack.Load(*dir)
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
	down := 0
	for _, c := range comps {
		state := "running"
		if !c.Running {
			state, down = "stopped", down+1
		}
		fmt.Fprintf(stdout, "%-12s %-8s pid %-7d %s\n", c.Name, state, c.PID, c.Address)
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

// stackParts are the optional components' flags of `stack up`; each
// component registers its own in its file (stack_<component>.go).
type stackParts struct {
	without  []string
	kerberos kerberosFlags
	spiffe   spiffeFlags
	vault    vaultFlags

	prometheus prometheusFlags
}

func (p *stackParts) register(fs *pflag.FlagSet) {
	fs.StringSliceVar(&p.without, "without", nil, "components to leave out: kerberos, spiffe, vault")
	p.kerberos.register(fs)
	p.spiffe.register(fs)
	p.vault.register(fs)
	p.prometheus.register(fs)
}

// apply adds the enabled components to cfg.
func (p *stackParts) apply(cfg *stack.Config) error {
	skip := map[string]bool{}
	for _, w := range p.without {
		switch w {
		case "kerberos", "spiffe", "vault":
			skip[w] = true
		default:
			return fmt.Errorf("unknown component %q in --without: use kerberos, spiffe or vault", w)
		}
	}
	var err error
	if !skip["kerberos"] {
		if cfg.Kerberos, err = p.kerberos.config(); err != nil {
			return err
		}
	}
	if !skip["spiffe"] {
		if cfg.SPIFFE, err = p.spiffe.config(); err != nil {
			return err
		}
	}
	if !skip["vault"] {
		if cfg.Vault, err = p.vault.config(); err != nil {
			return err
		}
	}
	cfg.Prometheus, err = p.prometheus.config()
	return err
}
