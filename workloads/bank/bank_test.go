package bank

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/authbench/authbench/workloads"
)

func TestValidateRejectsBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--accounts", "1"}, "--accounts"},
		{[]string{"--initial-balance", "-1"}, "--initial-balance"},
		{[]string{"--max-amount", "0"}, "--max-amount"},
		{[]string{"--contention", "bogus"}, "--contention"},
		{[]string{"--contention", "hot", "--hot-accounts", "1"}, "--hot-accounts"},
	} {
		b := newBank()
		if err := b.flags.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		err := b.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: Validate() = %v, want one line about %s", c.args, err, c.want)
		}
	}
	for _, args := range [][]string{nil, {"--hot-accounts", "1"}, {"--contention", "hot", "--hot-accounts", "2", "--initial-balance", "0"}} {
		b := newBank()
		if err := b.flags.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := b.Validate(); err != nil {
			t.Errorf("%v: Validate() = %v, want nil", args, err)
		}
	}
}

func TestRegisteredWithItsFlagsAndFacts(t *testing.T) {
	m, err := workloads.Lookup("bank")
	if err != nil {
		t.Fatal(err)
	}
	w := m.New()
	if _, ok := w.(workloads.Validator); !ok {
		t.Error("bank does not validate its flags before connecting")
	}
	if err := w.Flags().Parse([]string{"--accounts", "50", "--contention", "hot"}); err != nil {
		t.Fatal(err)
	}
	if got := w.Ops(); !slices.Equal(got, []string{"transfer"}) {
		t.Errorf("ops %v, want [transfer]", got)
	}
	facts := w.(workloads.Facter).Facts()
	if facts["accounts"] != "50" || facts["contention"] != ContentionHot || facts["initial_balance"] != "1000" {
		t.Errorf("facts %v", facts)
	}
}

// TestNextDrawsValidTransfers: every transfer moves between two distinct
// accounts in range (the hot ones under --contention hot), an amount in
// 1..--max-amount, under an id of its own.
func TestNextDrawsValidTransfers(t *testing.T) {
	for _, c := range []struct {
		contention string
		n          int64
	}{{ContentionUniform, 10}, {ContentionHot, 3}} {
		b := newBank()
		b.accounts, b.hotAccounts, b.maxAmount, b.contention = 10, 3, 7, c.contention
		w := &worker{b: b, rng: rand.New(rand.NewPCG(1, 2))}
		seen := map[[16]byte]bool{}
		used := map[int64]bool{}
		for range 2000 {
			if op := w.Next(); op != 0 {
				t.Fatalf("op %d, want 0 (transfer)", op)
			}
			if w.src == w.dst || w.src < 0 || w.src >= c.n || w.dst < 0 || w.dst >= c.n {
				t.Fatalf("%s: transfer %d -> %d outside 0..%d or to itself", c.contention, w.src, w.dst, c.n-1)
			}
			if w.amount < 1 || w.amount > b.maxAmount {
				t.Fatalf("amount %d outside 1..%d", w.amount, b.maxAmount)
			}
			if seen[w.id] {
				t.Fatalf("id %x drawn twice", w.id)
			}
			seen[w.id] = true
			used[w.src], used[w.dst] = true, true
		}
		if int64(len(used)) != c.n {
			t.Errorf("%s: 2000 transfers touched %d of %d accounts", c.contention, len(used), c.n)
		}
	}
}
