package driver

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/workloads"
)

// scripted returns an attempt func that returns errs in turn.
func scripted(errs ...error) attemptFn {
	i := 0
	return func(beginner, *txnRetries) error {
		err := errs[min(i, len(errs)-1)]
		i++
		return err
	}
}

func TestCommitOfUnknownOutcome(t *testing.T) {
	lost := commitFailed(io.ErrUnexpectedEOF) // the connection dropped during COMMIT
	conn := &beginError{io.ErrUnexpectedEOF}  // and the retry could not begin
	for _, c := range []struct {
		name      string
		attempts  []error
		ok        bool
		ambiguous bool
	}{
		{"settled by a retry that commits", []error{lost, nil}, true, false},
		{"settled by a retry that finds it applied", []error{lost, workloads.ErrAlreadyApplied}, true, false},
		{"retries run out after a lost COMMIT", []error{lost, conn, conn}, false, true},
		{"retries run out, no COMMIT was sent", []error{conn, conn, conn}, false, false},
		{"the server refused the COMMIT", []error{commitFailed(&pgconn.PgError{Code: "23505"})}, false, false},
		{"the server rolled the COMMIT back", []error{commitFailed(pgx.ErrTxCommitRollback)}, false, false},
	} {
		reg := results.NewRegistry([]string{"transfer"}, false, time.Now())
		rn := &runner{Run: &Run{Config: Config{MaxRetries: 2}, Registry: reg}, opCtx: context.Background(), stopCh: make(chan struct{})}
		rn.Config.TolerateErrors = true
		_, err := rn.runTxn(nil, scripted(c.attempts...), &txnRetries{rng: rand.New(rand.NewPCG(1, 1))})
		if (err == nil) != c.ok || isAmbiguous(err) != c.ambiguous {
			t.Errorf("%s: err %v, ambiguous %v; want ok %v, ambiguous %v", c.name, err, isAmbiguous(err), c.ok, c.ambiguous)
			continue
		}
		rn.record(reg.NewRecorder(), 0, time.Millisecond, time.Millisecond, 0, err)
		reg.Tick(time.Now(), false)
		s := reg.Summary(time.Now(), nil)
		if got := s.Op("transfer").Ambiguous; got != map[bool]int64{true: 1}[c.ambiguous] {
			t.Errorf("%s: summary counts %d of unknown outcome", c.name, got)
		}
		if err != nil && errors.Is(err, io.ErrUnexpectedEOF) && Classify(err) != results.ClassConnection {
			t.Errorf("%s: an ambiguous failure is still classed by its cause, got %s", c.name, Classify(err))
		}
	}
}

// TestBeginRetriesLastATimeWindow: an auth failure at begin (a rotation's
// window) is retried for beginRetryWindow since the first one, not a fixed
// number of times; then it fails as an auth error. The stop ends it early.
func TestBeginRetriesLastATimeWindow(t *testing.T) {
	defer func(w time.Duration) { beginRetryWindow = w }(beginRetryWindow)
	refused := &beginError{&pgconn.PgError{Code: "28P01"}} // the old password, already gone
	newRunner := func() *runner {
		reg := results.NewRegistry([]string{"transfer"}, false, time.Now())
		return &runner{Run: &Run{Config: Config{MaxRetries: 30}, Registry: reg}, opCtx: context.Background(), stopCh: make(chan struct{})}
	}
	rng := rand.New(rand.NewPCG(1, 1))

	beginRetryWindow = time.Hour // the rotation's window always ends within it
	attempts := []error{refused, refused, refused, refused, refused, refused, refused, refused, nil}
	if retries, err := newRunner().runTxn(nil, scripted(attempts...), &txnRetries{rng: rng}); err != nil || retries != 8 {
		t.Errorf("8 refusals at begin, then a commit: %d retries, err %v; want 8 and nil", retries, err)
	}

	beginRetryWindow = 20 * time.Millisecond
	start := time.Now()
	retries, err := newRunner().runTxn(nil, scripted(refused), &txnRetries{rng: rng})
	if Classify(err) != results.ClassAuth || time.Since(start) < beginRetryWindow {
		t.Errorf("refused at begin for good: %d retries over %s, err %v (%s); want an auth error after retrying for %s",
			retries, time.Since(start), err, Classify(err), beginRetryWindow)
	}
	if retryBegin(&pgconn.PgError{Code: "28P01"}, time.Now()) {
		t.Error("an auth failure after the transaction began is not retried")
	}

	beginRetryWindow = time.Hour
	rn := newRunner()
	ctx, cancel := context.WithCancel(context.Background())
	rn.opCtx = ctx
	cancel() // the run is stopping
	if _, err := rn.runTxn(nil, scripted(refused), &txnRetries{rng: rng}); !errors.Is(err, errStopping) {
		t.Errorf("refused at begin while stopping: err %v, want errStopping", err)
	}
}
