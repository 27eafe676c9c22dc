package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestTyposGetADidYouMean(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "bank", "--concurency", "8"}, "unknown flag: --concurency (did you mean --concurrency?) (see `authbench run --help`)"},
		{[]string{"stak", "up"}, `unknown command "stak" (did you mean stack?)`},
		{[]string{"run", "bank", "--zzz"}, "unknown flag: --zzz (see `authbench run --help`)"},
		{[]string{"run", "bank", "--auth", "cert", "--vault-rol", "r"}, "unknown flag: --vault-rol (did you mean --vault-role of --auth vault?)"},
		{[]string{"run", "bank", "--auth", "gssapi", "--krb-keytb", "k"}, "unknown flag: --krb-keytb (did you mean --krb-keytab?)"},
		{[]string{"frobnicate"}, `unknown command "frobnicate": run`},
	} {
		var out, errb bytes.Buffer
		if code := realMain(c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", c.args, code, errb.String(), c.want)
		}
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance(kitten, sitting) = %d, want 3", d)
	}
}
