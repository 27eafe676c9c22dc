package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/authbench/authbench/workloads"
	"github.com/authbench/authbench/workloads/bank"
)

// styles are the transaction styles the shapes section compares, in the
// order of the report.
var styles = []string{workloads.StylePipelined, workloads.StyleApp, workloads.StyleSingle}

// shapeRoundTrips is how many round trips a transfer takes in a style on
// PostgreSQL (the full retry protocol), the same for both tools:
// pipelined, BEGIN and the three statements, then COMMIT; app, BEGIN, the
// record, the read, the two writes, COMMIT; single, the statement alone.
var shapeRoundTrips = map[string]int{workloads.StylePipelined: 2, workloads.StyleApp: 6, workloads.StyleSingle: 1}

// roundTrips says n round trips in words: "1 round trip", "6 round trips".
func roundTrips(n int) string {
	if n == 1 {
		return "1 round trip"
	}
	return fmt.Sprintf("%d round trips", n)
}

// pgbenchValues are the pgbench expressions of the transfer's parameters.
var pgbenchValues = map[string]string{
	"id": "gen_random_uuid()", "run_id": ":runid", "src": ":src", "dst": ":dst", "amount": ":amount", "new_balance": ":new_balance",
}

// transferHead draws the transfer's accounts and amount, as the bank does.
const transferHead = `\set src random(0, :naccounts - 1)
\set dst random(0, :naccounts - 2)
\set dst :dst + case when :dst >= :src then 1 else 0 end
\set amount random(1, :maxamount)
`

// shapeScript writes the pgbench script of a transfer in style, from the
// workload's own statements, in the round trips authbench sends them: the
// pipelined style as one pipeline with BEGIN, then END; the app style one
// statement per round trip, the balance read into variables (\gset) and
// the funds decided in the script, as the application decides them in
// its own code; the single style as its one statement.
func shapeScript(style string) (string, error) {
	stmts := bank.TransferStatements(style)
	if stmts == nil {
		return "", fmt.Errorf("no transfer statements for style %q", style)
	}
	sql := make([]string, len(stmts))
	for i, s := range stmts {
		sql[i] = pgbenchSQL(s)
	}
	var b strings.Builder
	b.WriteString(transferHead)
	switch style {
	case workloads.StylePipelined:
		fmt.Fprintf(&b, "\\startpipeline\nBEGIN;\n%s;\n%s;\n%s;\n\\endpipeline\nEND;\n", sql[0], sql[1], sql[2])
	case workloads.StyleApp:
		fmt.Fprintf(&b, "BEGIN;\n%s;\n%s \\gset\n\\if :balance >= :amount\n\\set new_balance :balance - :amount\n%s;\n%s;\nEND;\n\\else\nROLLBACK;\n\\endif\n",
			sql[0], sql[1], sql[2], sql[3])
	case workloads.StyleSingle:
		fmt.Fprintf(&b, "%s;\n", sql[0])
	}
	return b.String(), nil
}

// pgbenchSQL puts pgbench's expressions in place of a statement's $n.
func pgbenchSQL(s bank.Statement) string {
	out := s.SQL
	for i := len(s.Params); i >= 1; i-- { // $10 before $1
		out = strings.ReplaceAll(out, "$"+strconv.Itoa(i), pgbenchValues[s.Params[i-1]])
	}
	return out
}

// writeShapeScripts writes transfer-<style>.sql for every style into dir.
func writeShapeScripts(dir string) (map[string]string, error) {
	paths := map[string]string{}
	for _, st := range styles {
		text, err := shapeScript(st)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "transfer-"+st+".sql")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return nil, err
		}
		paths[st] = path
	}
	return paths, nil
}

// shapeRun returns the runOne of a style: pgbench running the style's
// script against `authbench run bank --txn-style style`.
func shapeRun(style string) runOne {
	return againstScript(style, func(rc *runCtx, rep int) (sample, error) {
		s, _, err := runAuthbench(rc, append(bankArgs(rc, rep), "--txn-style", style)...)
		return s, err
	})
}

// againstScript returns the runOne of a pair on a fresh bank: pgbench
// running the style's script, against other.
func againstScript(style string, other func(rc *runCtx, rep int) (sample, error)) runOne {
	return func(rc *runCtx, rep int, tool string) (sample, error) {
		if err := resetBank(rc); err != nil {
			return sample{}, err
		}
		if tool == toolPgbench {
			s, _, err := runPgbench(rc, transferArgs(rc.scripts.shapes[style], rc.cfg, maxRetries, 0, ""))
			return s, err
		}
		return other(rc, rep)
	}
}

// shapeMeasures are the throughput measures with CPU per round trip: the
// same ratio as per transaction (both tools take the same round trips),
// but the absolute cost of one round trip, comparable across shapes. Its
// goal is the issue's: at most 1.3 × pgbench's.
func shapeMeasures(style string) []measure {
	rt := float64(shapeRoundTrips[style])
	return append(throughputMeasures[:2:2], measure{
		name:  "CPU µs per round trip",
		value: func(s sample) float64 { return s.CPUPerOpUs / rt }, goal: atMost, bound: 1.3,
	})
}
