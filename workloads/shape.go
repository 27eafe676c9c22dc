package workloads

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Transaction styles: how a workload sends an op's statements. Every
// workload offers all three, under the same names.
const (
	// StyleApp sends the statements the seed applications' ORMs send, one
	// per round trip, reads before writes (SQLAlchemy's bank, Django's
	// orders).
	StyleApp = "app"
	// StylePipelined sends an op in as few pipelined round trips as the
	// workload can (the default).
	StylePipelined = "pipelined"
	// StyleSingle sends an op as one statement that runs in a transaction
	// of its own: one round trip.
	StyleSingle = "single"
)

// TxnStyles are the transaction styles, the default first.
var TxnStyles = []string{StylePipelined, StyleApp, StyleSingle}

// CheckTxnStyle returns an error naming the styles when s is not one; ""
// is the default, pipelined.
func CheckTxnStyle(s string) error {
	for _, v := range TxnStyles {
		if s == v || s == "" {
			return nil
		}
	}
	return fmt.Errorf("unknown transaction style %q: use %s", s, strings.Join(TxnStyles, ", "))
}

// StyleOf returns the style a run asked for, the default when none.
func StyleOf(run *RunInfo) string {
	if run == nil || run.TxnStyle == "" {
		return StylePipelined
	}
	return run.TxnStyle
}

// Querier runs statements: a transaction, a connection or a pool.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Single is implemented by workers whose every attempt is one statement
// (the single style). Outside the savepoint retry protocol the driver
// sends it on its own, as a transaction of its own (one round trip, no
// BEGIN or COMMIT); inside it, Attempt runs it in the driver's
// transaction. Its errors mean what Attempt's do.
type Single interface {
	AttemptSingle(ctx context.Context, q Querier) error
}
