package driver

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// fakeBatchDB records what a batch attempt did: the queries sent, and
// whether the transaction was committed or rolled back.
type fakeBatchDB struct {
	noopDB
	beginErr, readErr, closeErr error
	sent                        []string
	commits, rollbacks, reads   int
}

func (f *fakeBatchDB) SendBatch(_ context.Context, b *pgx.Batch) pgx.BatchResults {
	f.sent = f.sent[:0]
	for _, q := range b.QueuedQueries {
		f.sent = append(f.sent, q.SQL)
	}
	return &fakeResults{db: f}
}

type fakeResults struct {
	pgx.BatchResults
	db *fakeBatchDB
	n  int
}

func (r *fakeResults) Exec() (pgconn.CommandTag, error) {
	r.n++
	if r.n == 1 {
		return pgconn.NewCommandTag("BEGIN"), r.db.beginErr
	}
	r.db.reads++
	return pgconn.NewCommandTag("UPDATE 1"), r.db.readErr
}
func (r *fakeResults) Close() error { return r.db.closeErr }
func (r *fakeResults) Tx() pgx.Tx   { return &fakeTx{db: r.db} }

type fakeTx struct {
	pgx.Tx
	db *fakeBatchDB
}

func (t *fakeTx) Commit(context.Context) error   { t.db.commits++; return nil }
func (t *fakeTx) Rollback(context.Context) error { t.db.rollbacks++; return nil }

// oneQuery is a Batcher with one statement.
type oneQuery struct{}

func (oneQuery) QueueAttempt(b *pgx.Batch) { b.Queue("UPDATE t SET x = x + 1") }
func (oneQuery) ReadAttempt(br pgx.BatchResults) error {
	_, err := br.Exec()
	return err
}

func TestBatchAttemptBeginsInTheBatchAndCommits(t *testing.T) {
	rn := &runner{opCtx: context.Background()}
	db, b := &fakeBatchDB{}, new(pgx.Batch)
	for i := 0; i < 2; i++ { // the batch is reused: no query left from before
		if err := rn.batchAttempt(context.Background(), db, oneQuery{}, b); err != nil {
			t.Fatal(err)
		}
		if len(db.sent) != 2 || db.sent[0] != "begin" || db.sent[1] != "UPDATE t SET x = x + 1" {
			t.Fatalf("attempt %d sent %q, want begin then the update", i, db.sent)
		}
	}
	if db.commits != 2 || db.rollbacks != 0 {
		t.Fatalf("commits %d rollbacks %d, want 2 and 0", db.commits, db.rollbacks)
	}
}

func TestBatchAttemptFailures(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name      string
		db        fakeBatchDB
		wantBegin bool // a beginError: nothing ran, safe to retry
		wantReads int
	}{
		{"begin fails", fakeBatchDB{beginErr: boom}, true, 0},
		{"statement fails", fakeBatchDB{readErr: boom}, false, 1},
		{"close fails", fakeBatchDB{closeErr: boom}, false, 1},
	}
	for _, c := range cases {
		rn := &runner{opCtx: context.Background()}
		err := rn.batchAttempt(context.Background(), &c.db, oneQuery{}, new(pgx.Batch))
		if !errors.Is(err, boom) || isBeginError(err) != c.wantBegin {
			t.Errorf("%s: err %v (begin error %v), want boom (begin error %v)", c.name, err, isBeginError(err), c.wantBegin)
		}
		if c.db.commits != 0 || c.db.rollbacks != 1 || c.db.reads != c.wantReads {
			t.Errorf("%s: commits %d rollbacks %d reads %d, want 0, 1 and %d", c.name, c.db.commits, c.db.rollbacks, c.db.reads, c.wantReads)
		}
	}
}
