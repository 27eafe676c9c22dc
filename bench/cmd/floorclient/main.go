// Command floorclient sends bank transfers with the cheapest Go clients
// (package bench/floor) and prints what they did as JSON; benchcmp runs it
// against pgbench in its floor section. It connects as libpq does, from
// PGHOST, PGPORT, PGDATABASE, PGUSER, PGSSLMODE, PGSSLROOTCERT, PGSSLCERT
// and PGSSLKEY, the environment benchcmp gives pgbench.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/bench/floor"
	"github.com/authbench/authbench/workloads"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg := floor.Config{}
	var runID string
	fs := pflag.NewFlagSet("floorclient", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Level, "level", floor.LevelWire, "client level: pgconn (prepared statements through pgconn) or wire (pre-encoded protocol bytes)")
	fs.StringVar(&cfg.Style, "style", workloads.StyleSingle, "transaction style: "+strings.Join(workloads.TxnStyles, ", "))
	fs.IntVar(&cfg.Clients, "clients", 8, "connections, one goroutine each")
	fs.DurationVar(&cfg.Duration, "duration", 0, "how long to send transfers (required)")
	fs.Int64Var(&cfg.Accounts, "accounts", 10000, "accounts of the loaded bank")
	fs.Int64Var(&cfg.MaxAmount, "max-amount", 100, "largest amount of a transfer")
	fs.IntVar(&cfg.MaxRetries, "max-retries", 30, "retries of a transfer after a serialization failure or deadlock")
	fs.StringVar(&runID, "run-id", "00000000-0000-4000-8000-00000000f100", "run id recorded in the transfers")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the clients' random numbers")
	fs.BoolVar(&cfg.LockThread, "lock-thread", false, "wire each client's goroutine to its own OS thread (runtime.LockOSThread)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); errors.Is(err, pflag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	id, err := hex.DecodeString(strings.ReplaceAll(runID, "-", ""))
	if err != nil || len(id) != 16 {
		fmt.Fprintf(stderr, "floorclient: --run-id %q is not a UUID\n", runID)
		return 2
	}
	copy(cfg.RunID[:], id)
	if cfg.Duration <= 0 {
		fmt.Fprintln(stderr, "floorclient: pass --duration, e.g. --duration 10s")
		return 2
	}
	if cfg.Conn, err = pgconn.ParseConfig(""); err != nil {
		fmt.Fprintf(stderr, "floorclient: connection settings from the PG* environment: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "floorclient: --cpuprofile: %v\n", err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	res, err := floor.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "floorclient: %v\n", err)
		return 1
	}
	out, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "%s\n", out)
	return 0
}
