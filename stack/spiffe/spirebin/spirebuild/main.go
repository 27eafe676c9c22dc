// Command spirebuild is `make spire`: it leaves SPIRE where the stack finds
// it (see spirebin.Find), building it from tools/spire when needed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/authbench/authbench/stack/spiffe/spirebin"
)

func main() {
	module := flag.String("module", "tools/spire", "the Go module whose tools are SPIRE's commands")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := spirebin.Ensure(ctx, *module, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
