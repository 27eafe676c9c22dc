package orders

import (
	"strings"
	"testing"
)

func TestValidateRejectsBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--customers", "0"}, "--customers"},
		{[]string{"--products", "-1"}, "--products"},
		{[]string{"--initial-stock", "-5"}, "--initial-stock"},
		{[]string{"--max-lines", "0"}, "--max-lines"},
		{[]string{"--max-lines", "100000"}, "--max-lines"},
		{[]string{"--max-quantity", "0"}, "--max-quantity"},
		{[]string{"--hot-products", "-2"}, "--hot-products"},
		{[]string{"--mix", "bogus=1"}, "--mix"},
	} {
		o := newOrders()
		if err := o.flags.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		err := o.validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: validate() = %v, want one line about %s", c.args, err, c.want)
		}
	}
	if err := newOrders().validate(); err != nil {
		t.Errorf("the defaults are invalid: %v", err)
	}
}
