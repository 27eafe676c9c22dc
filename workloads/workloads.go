// Package workloads defines what a workload is and keeps the registry of
// them. A workload knows its schema, its ops and its invariants; it knows
// nothing of authentication or of the stack. The driver owns the loop,
// retries and measurement, and asks a Worker only to pick an op and run one
// attempt of it inside a transaction.
package workloads

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/internal/registry"
)

// Meta describes a workload and constructs it.
type Meta struct {
	Name        string
	Description string
	// New returns a fresh workload whose flags are not yet parsed.
	New func() Workload
}

// Workload is the required interface of every workload.
type Workload interface {
	// Meta returns the workload's registration.
	Meta() Meta
	// Flags returns the workload's own flags (for init and run).
	Flags() *pflag.FlagSet
	// Ops returns the op names; histograms and counters are keyed by them.
	Ops() []string
	// Prepare checks the schema is loaded and reads what the workers need
	// (for example the number of accounts). It runs once before the load.
	Prepare(ctx context.Context, db *pgxpool.Pool, run *RunInfo) error
	// NewWorker returns the op source of one worker. Workers never share
	// mutable state; each gets its own RNG from the driver.
	NewWorker(rng *rand.Rand) Worker
}

// Worker picks ops and runs attempts of them. Next fixes the op and its
// arguments (ids, amounts) so that a retried attempt repeats the same
// transaction; Attempt runs one attempt inside tx, which the driver begins,
// commits, rolls back and retries.
type Worker interface {
	Next() (op int)
	Attempt(ctx context.Context, tx pgx.Tx) error
}

// Batcher is implemented by workers whose every attempt is one pipelined
// batch. The driver then queues BEGIN as the batch's first query
// (pgx.Batch.BeginTx), so that beginning the transaction costs no round
// trip of its own; it reads BEGIN's result, lets the worker read the rest,
// closes the batch and commits or rolls back. Attempt must still work.
type Batcher interface {
	// QueueAttempt queues the attempt's queries on b, after BEGIN.
	QueueAttempt(b *pgx.Batch)
	// ReadAttempt reads their results in order; its errors mean what
	// Attempt's do.
	ReadAttempt(br pgx.BatchResults) error
}

// Initer is implemented by workloads that create and load their schema.
type Initer interface {
	Init(ctx context.Context, db *pgxpool.Pool, log io.Writer) error
}

// Validator is implemented by workloads whose flags can be checked before
// anything connects; the CLI reports a failure as a usage error.
type Validator interface {
	Validate() error
}

// Tabler is implemented by workloads that create tables; init hands them
// to --owner so that other users can load the workload again.
type Tabler interface {
	Tables() []string
}

// Checker is implemented by workloads with invariants to verify after a run.
// It returns the list of problems found (empty when everything holds).
type Checker interface {
	Check(ctx context.Context, db *pgxpool.Pool, run *RunInfo) ([]string, error)
}

// Facter is implemented by workloads that report facts about their data set
// (accounts, initial balance) for the run summary.
type Facter interface {
	Facts() map[string]string
}

// RunInfo identifies a run: Prepare gets its id (workloads may record it in
// their rows), Check gets its id and the committed ops of the finished run.
type RunInfo struct {
	RunID     [16]byte         // a random UUID
	TxnStyle  string           // StyleApp, StylePipelined or StyleSingle; "" is StylePipelined (Prepare only)
	Committed map[string]int64 // committed ops by op name, warm-up included (Check only)
	Ambiguous map[string]int64 // ops that failed after a COMMIT of unknown outcome: in the database or not (Check only)
	// MergedIDs are the run ids of a merged run directory (Check only):
	// its committed ops are the rows of all of them.
	MergedIDs [][16]byte
}

// IDs returns the run ids whose rows Check counts.
func (r *RunInfo) IDs() [][16]byte {
	if len(r.MergedIDs) > 0 {
		return r.MergedIDs
	}
	return [][16]byte{r.RunID}
}

// Outcome is returned by Attempt when the transaction must be rolled back
// for a business reason (insufficient funds, out of stock). It is counted
// under its name, neither as a success nor as an error.
type Outcome struct{ Name string }

// Error implements error.
func (o *Outcome) Error() string { return "business outcome: " + o.Name }

var known = registry.New[Meta]("workload")

// Register adds a workload; called from the workload package's init().
func Register(m Meta) { known.Add(m.Name, m) }

// Lookup returns the named workload's Meta or an error listing the known ones.
func Lookup(name string) (Meta, error) { return known.Lookup(name) }

// Names returns the registered workload names, sorted.
func Names() []string { return known.Names() }

// ErrAlreadyApplied is returned by Attempt when the op's effect is already
// in the database (an earlier attempt committed although its COMMIT
// reported an error). The driver rolls back this attempt and counts the op
// as committed once.
var ErrAlreadyApplied = errors.New("already applied by an earlier attempt")

// NewID fills id with a version-4 UUID drawn from the worker's rng and mixed
// with the run id, so that two runs with the same --seed never produce the
// same ids (a clash would look like an already-applied op).
func NewID(id *[16]byte, rng *rand.Rand, runID [16]byte) {
	a, b := rng.Uint64(), rng.Uint64()
	for i := 0; i < 8; i++ {
		id[i] = byte(a>>(8*i)) ^ runID[i]
		id[8+i] = byte(b>>(8*i)) ^ runID[8+i]
	}
	id[6] = (id[6] & 0x0f) | 0x40 // version 4
	id[8] = (id[8] & 0x3f) | 0x80 // RFC 4122 variant
}
