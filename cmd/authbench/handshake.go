package main

import (
	"context"
	"io"
)

const handshakeUsage = "handshake [--auth MODE] [--count N] [--concurrency C] [flags]"

// runHandshake opens and closes --count connections through the load
// balancer and reports each handshake phase (credential, tcp, tls, auth,
// ready, total) and connections per second; it writes the same run
// directory as `run` with one op, connect.
func runHandshake(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("handshake")
	var o runOpts
	o.registerLoad(fs, args, stderr)
	fs.Int64Var(&o.drv.MaxOps, "count", 1000, "connections to open and close")
	if err := parseFlags(fs, handshakeUsage, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	if !fs.Changed("duration") {
		o.drv.Duration = 0 // --count decides
	}
	if o.drv.MaxOps < 1 {
		return usagef("--count must be at least 1, got %d", o.drv.MaxOps)
	}
	o.drv.ConnectOnly, o.drv.MaxRetries = true, 0
	if err := o.validate(); err != nil {
		return err
	}
	return execRun(ctx, &o, job{name: "handshake", ops: []string{"connect"}}, redactedFlags(fs), stdout)
}
