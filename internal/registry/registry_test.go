package registry

import (
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := New[int]("workload")
	r.Add("orders", 2)
	r.Add("bank", 1)
	if got := strings.Join(r.Names(), ","); got != "bank,orders" {
		t.Errorf("Names() = %s", got)
	}
	if v, err := r.Lookup("bank"); err != nil || v != 1 {
		t.Errorf("Lookup(bank) = %d, %v", v, err)
	}
	_, err := r.Lookup("nosuch")
	if err == nil || err.Error() != `unknown workload "nosuch": choose one of bank, orders` {
		t.Errorf("Lookup(nosuch) error = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a duplicate registration did not panic")
		}
	}()
	r.Add("bank", 3)
}
