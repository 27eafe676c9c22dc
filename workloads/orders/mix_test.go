package orders

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseMixGood(t *testing.T) {
	for in, want := range map[string]string{
		defaultMix:    "new_customer=5,list_customers=20,new_order=40,get_order=30,update_price=5",
		"new_order=1": "new_customer=0,list_customers=0,new_order=1,get_order=0,update_price=0",
		" get_order = 3 , new_customer=0,update_price=2 ": "new_customer=0,list_customers=0,new_order=0,get_order=3,update_price=2",
	} {
		m, err := parseMix(in)
		if err != nil {
			t.Errorf("parseMix(%q): %v", in, err)
			continue
		}
		if got := m.String(); got != want {
			t.Errorf("parseMix(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParseMixBad(t *testing.T) {
	for in, wantIn := range map[string]string{
		"":                            "empty",
		"  ":                          "empty",
		"new_order=1,refund=2":        `unknown op "refund"`,
		"new_order=-1":                `weight of new_order`,
		"new_order=lots":              `weight of new_order`,
		"new_order=1.5":               `weight of new_order`,
		"new_order=99999999999":       `weight of new_order`,
		"new_order=0,get_order=0":     "every op weight 0",
		"new_order":                   "not name=weight",
		"=3":                          "not name=weight",
		"new_order=1,":                "not name=weight",
		"new_order=1,new_order=2":     "twice",
		"New_Order=1":                 "unknown op",
		"new_order=1;get_order=2":     `weight of new_order`,
		"list_customers=1,get_order=": `weight of get_order`,
	} {
		_, err := parseMix(in)
		if err == nil {
			t.Errorf("parseMix(%q) accepted it", in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, wantIn) {
			t.Errorf("parseMix(%q) = %q, want it to mention %q", in, msg, wantIn)
		}
		if strings.Contains(msg, "\n") || !strings.Contains(msg, strings.Join(opNames[:], ", ")) {
			t.Errorf("parseMix(%q) = %q, want one line listing the ops", in, msg)
		}
	}
}

func TestMixDrawFollowsWeights(t *testing.T) {
	m, err := parseMix("new_customer=5,list_customers=20,new_order=40,get_order=35,update_price=0")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 200000
	var got [numOps]int
	for range n {
		got[m.draw(rng)]++
	}
	if got[opUpdatePrice] != 0 {
		t.Errorf("update_price has weight 0 but was drawn %d times", got[opUpdatePrice])
	}
	for op, w := range m.weights {
		want := float64(n) * float64(w) / 100
		sd := math.Sqrt(want * (1 - float64(w)/100))
		if d := math.Abs(float64(got[op]) - want); d > 5*sd+1 {
			t.Errorf("%s drawn %d times in %d, want about %.0f (weight %d%%)", opNames[op], got[op], n, want, w)
		}
	}
}

func TestMixDrawDoesNotAllocate(t *testing.T) {
	m, err := parseMix(defaultMix)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if a := testing.AllocsPerRun(1000, func() { m.draw(rng) }); a != 0 {
		t.Errorf("draw allocates %.1f times per call", a)
	}
}
