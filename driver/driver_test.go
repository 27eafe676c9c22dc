package driver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authbench/authbench/fix"
	"github.com/authbench/authbench/results"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want results.Class
	}{
		{nil, results.ClassNone},
		{&pgconn.PgError{Code: "40001"}, results.ClassRetryable},
		{fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "40P01"}), results.ClassRetryable},
		{&pgconn.PgError{Code: "28000"}, results.ClassAuth},
		{&pgconn.PgError{Code: "28P01"}, results.ClassAuth},
		{&pgconn.PgError{Code: "57P01"}, results.ClassConnection},
		{&pgconn.PgError{Code: "08006"}, results.ClassConnection},
		{&pgconn.PgError{Code: "57014"}, results.ClassTimeout},
		{&pgconn.PgError{Code: "23505"}, results.ClassOther},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, results.ClassConnection},
		{context.DeadlineExceeded, results.ClassTimeout},
		{&fix.Error{Err: errors.New("no ticket"), Credential: true}, results.ClassAuth},
		{fmt.Errorf("configure: %w", &fix.Error{Err: errors.New("no SVID"), Credential: true}), results.ClassAuth},
		{credErr{true}, results.ClassAuth},
		{&fix.Error{Err: errors.New("bad flag")}, results.ClassOther},
		{credErr{false}, results.ClassOther},
		{errors.New("unexpected EOF"), results.ClassConnection},
		{&net.OpError{Op: "remote error", Err: errors.New("remote error: tls: bad certificate")}, results.ClassAuth},
		{errors.New("something odd"), results.ClassOther},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	if !IsRetryable(&pgconn.PgError{Code: "40001"}) || IsRetryable(&pgconn.PgError{Code: "23505"}) {
		t.Error("IsRetryable must accept exactly 40001 and 40P01")
	}
	if !shouldRetry(errors.New("conn closed")) || shouldRetry(&pgconn.PgError{Code: "28P01"}) {
		t.Error("connection errors are retried, auth errors are not")
	}
}

// credErr is any error that answers CredentialFailure, not only fix.Error.
type credErr struct{ cred bool }

func (e credErr) Error() string           { return "credentials" }
func (e credErr) CredentialFailure() bool { return e.cred }

func TestBackoffBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for attempt := 0; attempt < 40; attempt++ {
		want := BackoffBase << uint(min(attempt, 20))
		if want > BackoffMax || attempt >= 16 {
			want = BackoffMax
		}
		for i := 0; i < 100; i++ {
			d := Backoff(attempt, rng)
			if d < want/2 || d >= want {
				t.Fatalf("Backoff(%d) = %s, want in [%s, %s)", attempt, d, want/2, want)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Concurrency: 1, DisplayEvery: time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Config){
		func(c *Config) { c.Concurrency = 0 },
		func(c *Config) { c.Concurrency = -3 },
		func(c *Config) { c.Duration = -time.Second },
		func(c *Config) { c.Ramp = -time.Second },
		func(c *Config) { c.MaxOps = -1 },
		func(c *Config) { c.MaxRate = -1 },
		func(c *Config) { c.MaxRetries = -1 },
		func(c *Config) { c.DisplayEvery = 1500 * time.Millisecond },
		func(c *Config) { c.DisplayEvery = 0 },
	}
	for i, mut := range bad {
		c := ok
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d: %+v accepted", i, c)
		}
	}
}

// TestSnifferTimesStartupMessages feeds a backend startup sequence split at
// awkward places and checks AuthenticationOk and ReadyForQuery are seen.
func TestSnifferTimesStartupMessages(t *testing.T) {
	msg := func(typ byte, body ...byte) []byte {
		n := len(body) + 4
		return append([]byte{typ, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, body...)
	}
	var stream []byte
	stream = append(stream, msg('R', 0, 0, 0, 10, 'S', 'C', 'R', 'A', 'M', 0, 0)...) // SASL
	stream = append(stream, msg('R', 0, 0, 0, 12, 1, 2, 3)...)                       // SASL final
	stream = append(stream, msg('R', 0, 0, 0, 0)...)                                 // AuthenticationOk
	stream = append(stream, msg('S', 'a', 0, 'b', 0)...)
	stream = append(stream, msg('K', 1, 2, 3, 4, 5, 6, 7, 8)...)
	stream = append(stream, msg('Z', 'I')...)
	stream = append(stream, msg('D', 9, 9)...) // after ready: ignored
	for split := 1; split < len(stream); split++ {
		tr := &connTrace{}
		s := &sniffReader{tr: tr}
		t1, t2 := time.Unix(1, 0), time.Unix(2, 0)
		s.scan(stream[:split], t1)
		s.scan(stream[split:], t2)
		if tr.authOK.IsZero() || tr.ready.IsZero() || !s.done {
			t.Fatalf("split %d: authOK=%v ready=%v done=%v", split, tr.authOK, tr.ready, s.done)
		}
		if tr.ready.Before(tr.authOK) {
			t.Fatalf("split %d: ready before auth", split)
		}
	}
}
