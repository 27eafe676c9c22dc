package bank

import "github.com/authbench/authbench/workloads"

// Statements returns the bank workload's named SQL statements: the schema
// that init runs, the statements of a transfer in every style and the drift query of
// check, in that order. Every one must be valid on PostgreSQL and on
// CockroachDB; the portability test in package workloads checks them (and,
// by scanning the source, the inline ones too). The slice is a fresh copy.
func Statements() []string {
	out := make([]string, 0, len(schema)+8)
	out = append(out, schema...)
	return append(out, sqlRecord, sqlDebit, sqlCredit, sqlReadBalance, sqlSetBalance, sqlAddBalance, sqlTransferOnce, sqlDrift)
}

// Statement is one statement of a transfer as a script sends it: its SQL
// and, for each of its parameters $1, $2, … in order, the value's name:
// id (the transfer's UUID), run_id, src, dst, amount, or new_balance (the
// source's balance read by the app style, less the amount).
type Statement struct {
	SQL    string
	Params []string
}

// TransferStatements returns the statements of one transfer in a style
// (workloads.StyleApp, StylePipelined or StyleSingle), in the order the
// workload sends them, without BEGIN and COMMIT; nil for an unknown style.
// make bench writes pgbench's scripts from them.
func TransferStatements(style string) []Statement {
	record := Statement{sqlRecord, []string{"id", "run_id", "src", "dst", "amount"}}
	switch style {
	case workloads.StylePipelined:
		return []Statement{record, {sqlDebit, []string{"src", "amount"}}, {sqlCredit, []string{"dst", "amount"}}}
	case workloads.StyleApp:
		return []Statement{record, {sqlReadBalance, []string{"src"}},
			{sqlSetBalance, []string{"new_balance", "src"}}, {sqlAddBalance, []string{"amount", "dst"}}}
	case workloads.StyleSingle:
		return []Statement{{sqlTransferOnce, []string{"id", "run_id", "src", "dst", "amount"}}}
	}
	return nil
}
