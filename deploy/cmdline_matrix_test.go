package deploy

import (
	"fmt"
	"path"
	"reflect"
	"strings"
	"testing"
)

// A matrix runs each workload × auth mode as a child `authbench run` and
// only reports a child's usage error as a failed combination, so each
// matrix line is also checked as the runs it starts.

// matrixOnly are the matrix's own flags; every other flag goes to each run.
var matrixOnly = map[string]bool{"workloads": true, "auth": true, "out": true, "init": true}

// boolFlags take no separate value.
var boolFlags = map[string]bool{"init": true, "tolerate-errors": true, "help": true}

// matrixRuns returns the `run` command lines a matrix line starts.
func matrixRuns(args []string) ([][]string, error) {
	if len(args) == 0 || args[0] != "matrix" {
		return nil, nil
	}
	values := map[string]string{"workloads": "bank"}
	var pass []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") {
			return nil, fmt.Errorf("unexpected argument %q", a)
		}
		tokens := []string{a}
		if !hasValue && !boolFlags[name] {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("--%s needs a value", name)
			}
			i++
			value = args[i]
			tokens = append(tokens, value)
		}
		if matrixOnly[name] {
			values[name] = value
			continue
		}
		pass = append(pass, tokens...)
	}
	if values["auth"] == "" {
		return nil, fmt.Errorf("no --auth: the line would run every registered mode; name them")
	}
	out := values["out"]
	var runs [][]string
	for _, w := range strings.Split(values["workloads"], ",") {
		for _, a := range strings.Split(values["auth"], ",") {
			run := []string{"run", w, "--auth", a, "--quiet"}
			if out != "" {
				run = append(run, "--out", path.Join(out, w+"-"+a))
			}
			runs = append(runs, append(run, pass...))
		}
	}
	return runs, nil
}

// withMatrixRuns adds, after each matrix line, the runs it starts.
func withMatrixRuns(t *testing.T, lines []cmdLine) []cmdLine {
	t.Helper()
	var out []cmdLine
	for _, l := range lines {
		out = append(out, l)
		runs, err := matrixRuns(l.args)
		if err != nil {
			t.Errorf("%s: %v", l.where, err)
		}
		for _, r := range runs {
			child := l
			child.where = fmt.Sprintf("%s (run %s --auth %s)", l.where, r[1], r[3])
			child.args = r
			out = append(out, child)
		}
	}
	return out
}

func TestMatrixRunsExpandEveryCombination(t *testing.T) {
	runs, err := matrixRuns([]string{"matrix", "--init=false", "--workloads", "bank,orders", "--auth=cert,vault",
		"--duration", "2m", "--tolerate-errors", "--metrics-addr", "0.0.0.0:2112", "--out", "/results/m"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"run", "bank", "--auth", "cert", "--quiet", "--out", "/results/m/bank-cert", "--duration", "2m", "--tolerate-errors", "--metrics-addr", "0.0.0.0:2112"},
		{"run", "bank", "--auth", "vault", "--quiet", "--out", "/results/m/bank-vault", "--duration", "2m", "--tolerate-errors", "--metrics-addr", "0.0.0.0:2112"},
		{"run", "orders", "--auth", "cert", "--quiet", "--out", "/results/m/orders-cert", "--duration", "2m", "--tolerate-errors", "--metrics-addr", "0.0.0.0:2112"},
		{"run", "orders", "--auth", "vault", "--quiet", "--out", "/results/m/orders-vault", "--duration", "2m", "--tolerate-errors", "--metrics-addr", "0.0.0.0:2112"},
	}
	if !reflect.DeepEqual(runs, want) {
		t.Errorf("matrixRuns =\n%q\nwant\n%q", runs, want)
	}
	if _, err := matrixRuns([]string{"matrix", "--duration"}); err == nil {
		t.Error("a flag without its value was accepted")
	}
	if runs, _ := matrixRuns([]string{"run", "bank"}); runs != nil {
		t.Errorf("a run line expanded to %q", runs)
	}
}
