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
func scripted(errs ...error) func(beginner) error {
	i := 0
	return func(beginner) error {
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
		_, err := rn.runTxn(nil, scripted(c.attempts...), rand.New(rand.NewPCG(1, 1)))
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
