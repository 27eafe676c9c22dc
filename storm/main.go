// Command storm is the rotation-storm experiment behind `make storm`: on a
// local stack of its own (`--max-connections` for the fleet), it runs a
// fleet of application instances (100 × 20 connections by default) under
// a steady open-loop load, once per auth mode and rotation style: one
// forced rotation of every instance at once (the storm) and one spread
// over -spread. It checks every run's invariants and writes a document
// (docs/rotation-storms.md) with one table — mode × style: peak connects
// per second, handshake p99, transaction p99 in the rotation's window,
// failed transactions, time back to 90 % throughput — and each run's
// charts as SVG images beside it. The figures are whatever the run
// measured; the document says on what machine and under what load.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// options are storm's flags.
type options struct {
	bin         string
	auths       string
	instances   int
	poolSize    int
	concurrency int
	maxRate     int
	baseline    time.Duration
	after       time.Duration
	spread      time.Duration
	doc         string
	out         string
	from        string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/authbench", "the authbench binary (make build)")
	flag.StringVar(&o.auths, "auth", "cert,gssapi,vault", "auth modes, each run synchronised and spread")
	flag.IntVar(&o.instances, "instances", 100, "application instances of the fleet")
	flag.IntVar(&o.poolSize, "pool-size", 20, "connections each instance holds")
	flag.IntVar(&o.concurrency, "concurrency", 40, "workers, dealt over the instances")
	flag.IntVar(&o.maxRate, "max-rate", 200, "steady open-loop load, transactions per second")
	flag.DurationVar(&o.baseline, "baseline", 30*time.Second, "load before the forced rotation")
	flag.DurationVar(&o.after, "after", 25*time.Second, "load after it (the window is the first 10 s)")
	flag.DurationVar(&o.spread, "spread", 20*time.Second, "the spread run's --rotate-spread")
	flag.StringVar(&o.doc, "doc", "docs/rotation-storms.md", "the document to write (its images go to a directory of the same name)")
	flag.StringVar(&o.out, "out", "", "run directories (default runs/storm-<timestamp>)")
	flag.StringVar(&o.from, "from", "", "write the document again from this earlier experiment's run directories, without running anything")
	flag.Parse()
	if err := storm(&o); err != nil {
		fmt.Fprintf(os.Stderr, "storm: %s\n", err)
		os.Exit(1)
	}
}

// storm starts the stack, runs every mode and style, and writes the doc.
func storm(o *options) error {
	if o.from != "" {
		return rewrite(o)
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("no authbench binary at %s: run `make build` (or pass -bin)", bin)
	}
	if o.out == "" {
		o.out = filepath.Join("runs", "storm-"+time.Now().Format("20060102-150405"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	conns := o.instances * o.poolSize
	machine := describeMachine("before")
	st, down, err := startStack(ctx, bin, conns+100)
	if err != nil {
		return err
	}
	defer down()
	env := st.Environ()
	if err := run(ctx, bin, env, "init", "bank", "--accounts", "10000"); err != nil {
		return err
	}
	var rows []row
	for _, auth := range strings.Split(o.auths, ",") {
		for _, spread := range []time.Duration{0, o.spread} {
			r, err := runOne(ctx, o, bin, env, auth, spread)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
	}
	machine += "; " + describeMachine("after")
	if err := os.WriteFile(filepath.Join(o.out, machineFile), []byte(machine), 0o644); err != nil {
		return err
	}
	if err := writeDoc(o, rows, machine); err != nil {
		return err
	}
	fmt.Printf("storm: wrote %s; run directories in %s\n", o.doc, o.out)
	return nil
}

// machineFile keeps, among an experiment's run directories, what the
// machine was and how busy, for -from.
const machineFile = "machine.txt"

// rewrite writes the document from the run directories of an earlier
// experiment (-from).
func rewrite(o *options) error {
	machine, err := os.ReadFile(filepath.Join(o.from, machineFile))
	if err != nil {
		return fmt.Errorf("-from %s is no storm experiment: %w", o.from, err)
	}
	var rows []row
	for _, auth := range strings.Split(o.auths, ",") {
		for _, spread := range []time.Duration{0, o.spread} {
			style := "synchronised"
			if spread > 0 {
				style = "spread " + spread.String()
			}
			r, err := readRow(filepath.Join(o.from, auth+"-"+styleSlug(spread)), auth, style, styleSlug(spread))
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
	}
	if err := writeDoc(o, rows, string(machine)); err != nil {
		return err
	}
	fmt.Printf("storm: wrote %s from %s\n", o.doc, o.from)
	return nil
}
