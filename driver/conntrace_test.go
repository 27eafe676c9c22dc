package driver

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/stack/stacktest"
)

// countingObserver counts connection outcomes.
type countingObserver struct{ opened, failed, closed atomic.Int32 }

func (o *countingObserver) ConnOpened(time.Duration)    { o.opened.Add(1) }
func (o *countingObserver) ConnFailed()                 { o.failed.Add(1) }
func (o *countingObserver) ConnClosed()                 { o.closed.Add(1) }
func (o *countingObserver) Phase(string, time.Duration) {}

func TestInstrumentCountsEachFailedAttemptOnce(t *testing.T) {
	port := stacktest.ClosedPort(t)
	for _, tc := range []struct {
		name   string
		before func(context.Context, *pgx.ConnConfig) error
	}{
		{"nothing listens", nil},
		{"no credential", func(context.Context, *pgx.ConnConfig) error { return errors.New("no ticket") }},
	} {
		// localhost may resolve to two addresses: still one attempt.
		cfg, err := pgxpool.ParseConfig(fmt.Sprintf("host=localhost port=%d user=u sslmode=disable connect_timeout=2", port))
		if err != nil {
			t.Fatal(err)
		}
		cfg.BeforeConnect = tc.before
		obs := &countingObserver{}
		Instrument(cfg, obs)
		p, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Acquire(context.Background())
		p.Close()
		if err == nil || obs.failed.Load() != 1 || obs.opened.Load() != 0 {
			t.Errorf("%s: acquire err %v, %d failed, %d opened; want 1 failed attempt", tc.name, err, obs.failed.Load(), obs.opened.Load())
		}
	}
}
