package driver

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authbench/authbench/results"
)

// spTx records the statements of a transaction; RELEASE fails with
// releaseErr once when set.
type spTx struct {
	pgx.Tx
	log        []string
	releaseErr error
}

func (t *spTx) Exec(_ context.Context, sql string, _ ...any) (pgconn.CommandTag, error) {
	t.log = append(t.log, sql)
	if sql == sqlReleaseSavepoint && t.releaseErr != nil {
		err := t.releaseErr
		t.releaseErr = nil
		return pgconn.CommandTag{}, err
	}
	return pgconn.CommandTag{}, nil
}
func (t *spTx) Commit(context.Context) error   { t.log = append(t.log, "COMMIT"); return nil }
func (t *spTx) Rollback(context.Context) error { t.log = append(t.log, "ROLLBACK"); return nil }

// spDB begins its one spTx.
type spDB struct {
	noopDB
	tx *spTx
}

func (d spDB) Begin(context.Context) (pgx.Tx, error) {
	d.tx.log = append(d.tx.log, "BEGIN")
	return d.tx, nil
}

// spWorker's attempts return errs in turn, then nil.
type spWorker struct {
	noopWorker
	errs []error
	tx   *spTx
}

func (w *spWorker) Attempt(context.Context, pgx.Tx) error {
	w.tx.log = append(w.tx.log, "attempt")
	if len(w.errs) == 0 {
		return nil
	}
	err := w.errs[0]
	w.errs = w.errs[1:]
	return err
}

func spRunner(maxRetries int) *runner {
	reg := results.NewRegistry([]string{"transfer"}, false, time.Now())
	return &runner{Run: &Run{Config: Config{MaxRetries: maxRetries, RetryProtocol: ProtocolSavepoint}, Registry: reg},
		opCtx: context.Background(), stopCh: make(chan struct{})}
}

// TestSavepointRetriesInsideTheTransaction: a serialization failure of the
// attempt or of RELEASE rolls back to the savepoint and runs the attempt
// again in the same transaction, counted as a retry; another error, or
// the last retry's, rolls the whole transaction back.
func TestSavepointRetriesInsideTheTransaction(t *testing.T) {
	serial := &pgconn.PgError{Code: "40001"}
	other := &pgconn.PgError{Code: "23505"}
	for _, c := range []struct {
		name       string
		errs       []error
		releaseErr error
		maxRetries int
		want       []string
		retries    int
		fails      bool
	}{
		{"restart once", []error{serial}, nil, 5,
			[]string{"BEGIN", sqlSavepoint, "attempt", sqlRollbackSavepoint, "attempt", sqlReleaseSavepoint, "COMMIT"}, 1, false},
		{"restart at RELEASE", nil, serial, 5,
			[]string{"BEGIN", sqlSavepoint, "attempt", sqlReleaseSavepoint, sqlRollbackSavepoint, "attempt", sqlReleaseSavepoint, "COMMIT"}, 1, false},
		{"another error ends it", []error{other}, nil, 5,
			[]string{"BEGIN", sqlSavepoint, "attempt", "ROLLBACK"}, 0, true},
		{"out of retries", []error{serial, serial}, nil, 1,
			[]string{"BEGIN", sqlSavepoint, "attempt", sqlRollbackSavepoint, "attempt", "ROLLBACK"}, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx := &spTx{releaseErr: c.releaseErr}
			rn := spRunner(c.maxRetries)
			w := &spWorker{errs: c.errs, tx: tx}
			retries, err := rn.runTxn(spDB{tx: tx}, rn.attemptFunc(context.Background(), w), &txnRetries{rng: rand.New(rand.NewPCG(1, 1))})
			if !slices.Equal(tx.log, c.want) || retries != c.retries || (err != nil) != c.fails {
				t.Errorf("statements %q, %d retries, err %v\nwant %q, %d retries, failed %v", tx.log, retries, err, c.want, c.retries, c.fails)
			}
			if c.fails && !errors.Is(err, c.errs[len(c.errs)-1]) {
				t.Errorf("err %v, want the attempt's last error", err)
			}
		})
	}
}

// TestTransactionPathAllocatesNothing: running a transaction that commits
// allocates nothing in the driver, under either protocol.
func TestTransactionPathAllocatesNothing(t *testing.T) {
	for _, protocol := range Protocols {
		rn := spRunner(3)
		rn.Config.RetryProtocol = protocol
		tx := &spTx{log: make([]string, 0, 16)}
		w := &spWorker{tx: tx}
		attempt, tr := rn.attemptFunc(context.Background(), w), &txnRetries{rng: rand.New(rand.NewPCG(1, 1))}
		var db beginner = spDB{tx: tx} // boxed once, as the pool is
		n := testing.AllocsPerRun(1000, func() {
			tx.log = tx.log[:0]
			if _, err := rn.runTxn(db, attempt, tr); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: a transaction allocates %.1f times in the driver", protocol, n)
		}
	}
}
