package driver

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authbench/authbench/results"
)

// TestPerTxnConnectRetriesARotationsWindow: with a connection per
// transaction, a refused connect (a rotation's window) is retried like a
// failure to begin on the pool, then fails as an auth error once the window
// is over; the stop ends the retries.
func TestPerTxnConnectRetriesARotationsWindow(t *testing.T) {
	defer func(w time.Duration) { beginRetryWindow = w }(beginRetryWindow)
	refused := &pgconn.PgError{Code: "28P01"}
	opener := func(failures int) func(context.Context) (beginner, func(), error) {
		return func(context.Context) (beginner, func(), error) {
			if failures > 0 {
				failures--
				return nil, nil, refused
			}
			return noopDB{}, func() {}, nil
		}
	}
	newRunner := func(failures int) *runner {
		reg := results.NewRegistry([]string{"transfer"}, false, time.Now())
		r := &Run{Config: Config{MaxRetries: 30, ConnPerTxn: true}, Registry: reg, openConn: opener(failures)}
		return &runner{Run: r, opCtx: context.Background(), stopCh: make(chan struct{})}
	}
	rng := rand.New(rand.NewPCG(1, 1))

	beginRetryWindow = time.Hour
	if db, _, retries, err := newRunner(6).conn(nil, rng); err != nil || retries != 6 || db == nil {
		t.Errorf("6 refused connects, then one: %d retries, err %v; want 6 and a connection", retries, err)
	}

	beginRetryWindow = 20 * time.Millisecond
	if _, _, _, err := newRunner(1<<30).conn(nil, rng); Classify(err) != results.ClassAuth {
		t.Errorf("refused for good: err %v (%s), want an auth error", err, Classify(err))
	}

	beginRetryWindow = time.Hour
	rn := newRunner(1 << 30)
	ctx, cancel := context.WithCancel(context.Background())
	rn.opCtx = ctx
	go func() { time.Sleep(50 * time.Millisecond); cancel() }() // the run stops while it retries
	// Within an hour's window only the stop can end the retries.
	if _, _, _, err := rn.conn(nil, rng); err == nil || !errors.Is(err, errStopping) && !errors.Is(err, refused) {
		t.Errorf("refused while stopping: err %v, want errStopping or the refusal", err)
	}
}
