package workloads

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// PreparedBatcher is implemented by workers whose attempt is one
// pipelined batch of statements that can be prepared once per connection
// and sent straight through pgconn, their arguments encoded by the worker
// into buffers it reuses: no pgx.Batch, statement cache lookup or
// pipeline bookkeeping per attempt. Outside the savepoint retry protocol
// the driver prepares PreparedSQL on each connection before its first
// attempt there, sends BEGIN, the queued statements and one Sync in one
// write, reads BEGIN's result, lets the worker read the rest and commits.
// Attempt must still work (the savepoint protocol runs it).
type PreparedBatcher interface {
	// PreparedSQL returns the statements to prepare, in the order
	// QueuePrepared receives them; the same slice every call.
	PreparedSQL() []string
	// QueuePrepared queues the attempt's statements on b (ExecStatement,
	// parameters in BinaryFormat); sds are PreparedSQL's, prepared on
	// the connection.
	QueuePrepared(b *pgconn.Batch, sds []*pgconn.StatementDescription)
	// ReadPrepared reads the queued statements' results from mrr, in
	// order (NextTag); its errors mean what Attempt's do.
	ReadPrepared(mrr *pgconn.MultiResultReader) error
}

// BinaryFormat is the format code list that sends every parameter (or
// asks for every result column) in PostgreSQL's binary format.
var BinaryFormat = []int16{1}

// errNoResult is a batch that ended, without an error, before the
// statement whose result was asked for.
var errNoResult = errors.New("the batch ended before the statement's result")

// NextTag reads the next statement's result of a batch: its command tag,
// or the error that ended the batch (the server's, which the batch
// returns for every statement after the failed one).
func NextTag(mrr *pgconn.MultiResultReader) (pgconn.CommandTag, error) {
	if !mrr.NextResult() {
		if err := mrr.Close(); err != nil {
			return pgconn.CommandTag{}, err
		}
		return pgconn.CommandTag{}, errNoResult
	}
	return mrr.ResultReader().Close()
}
