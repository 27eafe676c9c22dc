package orders

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// FuzzParseMix feeds --mix strings to parseMix: whatever the input, it
// returns a mix or a one-line error listing the ops, never panics; a mix
// it accepts has a positive total, survives a round trip through its
// canonical String form and only ever draws ops of positive weight. Seeds
// are in testdata/fuzz/FuzzParseMix.
func FuzzParseMix(f *testing.F) {
	f.Add(defaultMix)
	rng := rand.New(rand.NewPCG(1, 2))
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMix(s)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, strings.Join(opNames[:], ", ")) {
				t.Fatalf("parseMix(%q) error %q is not one line listing the ops", s, msg)
			}
			return
		}
		if m.cum[numOps-1] == 0 {
			t.Fatalf("parseMix(%q) accepted a mix whose weights sum to 0", s)
		}
		back, err := parseMix(m.String())
		if err != nil || back.weights != m.weights {
			t.Fatalf("parseMix(%q) = %s, which parses back as %v, %v", s, m, back, err)
		}
		for range 64 {
			if op := m.draw(rng); op < 0 || op >= numOps || m.weights[op] == 0 {
				t.Fatalf("mix %s drew op %d", m, op)
			}
		}
	})
}
