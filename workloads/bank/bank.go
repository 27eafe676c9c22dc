// Package bank is the bank-transfer workload: accounts(id, balance) and one
// op, transfer, that moves money between two random accounts in one
// transaction and records the transfer under an id fixed before the first
// attempt, so that a retry after an ambiguous commit applies it at most once.
package bank

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/workloads"
)

func init() {
	workloads.Register(meta)
}

var meta = workloads.Meta{
	Name:        "bank",
	Description: "move money between two random accounts in one transaction (SQLAlchemy bank app)",
	New:         func() workloads.Workload { return newBank() },
}

// Contention modes.
const (
	ContentionUniform = "uniform"
	ContentionHot     = "hot"
)

type bank struct {
	flags          *pflag.FlagSet
	accounts       int64
	initialBalance int64
	maxAmount      int64
	contention     string
	hotAccounts    int64
	runID          [16]byte
	style          string // workloads.StyleApp, StylePipelined or StyleSingle
}

func newBank() *bank {
	b := &bank{flags: pflag.NewFlagSet("bank", pflag.ContinueOnError)}
	b.flags.Int64Var(&b.accounts, "accounts", 1000, "number of accounts (init)")
	b.flags.Int64Var(&b.initialBalance, "initial-balance", 1000, "balance of every account at init")
	b.flags.Int64Var(&b.maxAmount, "max-amount", 100, "largest amount moved by one transfer")
	b.flags.StringVar(&b.contention, "contention", ContentionUniform, "uniform: any two accounts; hot: only the first --hot-accounts accounts, to produce retries on purpose")
	b.flags.Int64Var(&b.hotAccounts, "hot-accounts", 4, "accounts that --contention hot concentrates transfers on")
	return b
}

func (b *bank) Meta() workloads.Meta  { return meta }
func (b *bank) Flags() *pflag.FlagSet { return b.flags }
func (b *bank) Ops() []string         { return []string{"transfer"} }
func (b *bank) Facts() map[string]string {
	return map[string]string{
		"accounts":        strconv.FormatInt(b.accounts, 10),
		"initial_balance": strconv.FormatInt(b.initialBalance, 10),
		"contention":      b.contention,
	}
}

func (b *bank) validate() error {
	switch {
	case b.accounts < 2:
		return fmt.Errorf("--accounts must be at least 2, got %d", b.accounts)
	case b.initialBalance < 0:
		return fmt.Errorf("--initial-balance must not be negative, got %d", b.initialBalance)
	case b.maxAmount < 1:
		return fmt.Errorf("--max-amount must be at least 1, got %d", b.maxAmount)
	case b.contention != ContentionUniform && b.contention != ContentionHot:
		return fmt.Errorf("--contention must be %q or %q, got %q", ContentionUniform, ContentionHot, b.contention)
	case b.contention == ContentionHot && b.hotAccounts < 2:
		return fmt.Errorf("--hot-accounts must be at least 2, got %d", b.hotAccounts)
	}
	return nil
}

// Prepare reads the data set's size and initial balance recorded by init.
func (b *bank) Prepare(ctx context.Context, db *pgxpool.Pool, run *workloads.RunInfo) error {
	if err := b.validate(); err != nil {
		return err
	}
	meta, err := readMeta(ctx, db)
	if err != nil {
		return err
	}
	b.accounts, b.initialBalance = meta.accounts, meta.initialBalance
	if b.hotAccounts > b.accounts {
		b.hotAccounts = b.accounts
	}
	b.runID, b.style = run.RunID, workloads.StyleOf(run)
	return nil
}

// NewWorker returns a transfer source with its own RNG, in the style
// Prepare was given.
func (b *bank) NewWorker(rng *rand.Rand) workloads.Worker {
	t := worker{b: b, rng: rng}
	switch b.style {
	case workloads.StyleApp:
		return newAppWorker(t)
	case workloads.StyleSingle:
		return newSingleWorker(t)
	}
	return newPipelinedWorker(t)
}

// worker draws transfers; the style's worker type sends them. The
// statements' arguments are pointers to its fields, in slices built once
// (args), so that sending a transfer boxes no value: the hot path
// allocates only inside pgx.
type worker struct {
	b        *bank
	rng      *rand.Rand
	id       [16]byte
	src, dst int64
	amount   int64
}

// args returns arguments reading the worker's fields, by the names of
// bank.Statement's Params, for a statement's arguments.
func (w *worker) args(names ...string) []any {
	out := make([]any, len(names))
	for i, n := range names {
		switch n {
		case "id":
			out[i] = workloads.UUID(&w.id)
		case "run_id":
			out[i] = workloads.UUID(&w.b.runID)
		case "src":
			out[i] = workloads.Int8(&w.src)
		case "dst":
			out[i] = workloads.Int8(&w.dst)
		case "amount":
			out[i] = workloads.Int8(&w.amount)
		}
	}
	return out
}

var errInsufficient = &workloads.Outcome{Name: "insufficient_funds"}

// Next fixes the next transfer: a fresh id, two distinct accounts, an amount.
func (w *worker) Next() int {
	n := w.b.accounts
	if w.b.contention == ContentionHot {
		n = w.b.hotAccounts
	}
	w.src = w.rng.Int64N(n)
	w.dst = w.rng.Int64N(n - 1)
	if w.dst >= w.src {
		w.dst++
	}
	w.amount = 1 + w.rng.Int64N(w.b.maxAmount)
	workloads.NewID(&w.id, w.rng, w.b.runID)
	return 0
}
