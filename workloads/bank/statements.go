package bank

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
