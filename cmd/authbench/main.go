// Command authbench is a load driver and benchmark for SQL databases behind
// a load balancer with strong authentication. See README.md.
package main

import (
	_ "github.com/authbench/authbench/stack/all" // registers the stack components

	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	_ "github.com/authbench/authbench/authmodes/cert"
	_ "github.com/authbench/authbench/authmodes/gssapi"
	_ "github.com/authbench/authbench/authmodes/password"
	_ "github.com/authbench/authbench/authmodes/spiffe"
	_ "github.com/authbench/authbench/authmodes/vault"
	_ "github.com/authbench/authbench/workloads/bank"
	_ "github.com/authbench/authbench/workloads/orders"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"stack":     {"start, stop and describe the local stack (up | down | status | env)", runStack},
	"init":      {"create and load a workload's schema", runInit},
	"run":       {"run a workload and write a run directory", runRun},
	"handshake": {"open and close connections, timing each handshake phase", runHandshake},
	"matrix":    {"run every workload × auth mode combination and compare them", runMatrix},
	"capacity":  {"search, per auth mode, the highest rate that holds a latency and error objective", runCapacity},
	"check":     {"verify a workload's invariants after a run", runCheck},
	"report":    {"write one self-contained HTML report of run directories", runReport},
	"merge":     {"combine the run directories of several drivers into one", runMerge},
	"doctor":    {"check, step by step, what a connection with --auth MODE needs", runDoctor},
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain runs one command and returns the exit code: 0 ok, 1 runtime
// error, 2 usage error.
func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		fmt.Fprintf(stderr, "authbench: unknown command %q%s: run `authbench help` for the list\n", args[0], didYouMean(args[0], names))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitCode(stderr, args[0], cmd.run(ctx, args[1:], stdout, stderr))
}

func exitCode(stderr io.Writer, name string, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "authbench %s: %s%s\n", name, oneLine(cliText(err)), stackHint(err))
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "authbench: load driver and benchmark for SQL databases behind a load balancer with strong authentication")
	fmt.Fprintln(w, "\nusage: authbench COMMAND [ARGS] [FLAGS]   (authbench COMMAND [--auth MODE] --help for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}

// usageError is a mistake in the command line (exit code 2); err, when
// set, is the error it reports.
type usageError struct {
	msg string
	err error
}

func (e *usageError) Error() string { return e.msg }

// Unwrap returns the error reported, if any.
func (e *usageError) Unwrap() error { return e.err }

// usageErr reports err as a usage error, keeping it in the chain.
func usageErr(err error) error { return &usageError{msg: err.Error(), err: err} }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp is returned after --help was printed.
var errHelp = errors.New("help shown")

// oneLine folds an error message onto one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
