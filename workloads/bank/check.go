package bank

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/workloads"
)

// Check verifies the bank's invariants: money is neither created nor lost,
// no balance is negative, every account's balance is its initial balance
// plus what the recorded transfers moved (so every committed transfer was
// applied exactly once), and the run's recorded transfers equal the
// transfers it committed.
func (b *bank) Check(ctx context.Context, db *pgxpool.Pool, run *workloads.RunInfo) ([]string, error) {
	m, err := readMeta(ctx, db)
	if err != nil {
		return nil, err
	}
	var problems []string
	var total, negative, accounts int64
	err = db.QueryRow(ctx, `SELECT count(*), COALESCE(sum(balance), 0), count(*) FILTER (WHERE balance < 0) FROM accounts`).
		Scan(&accounts, &total, &negative)
	if err != nil {
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	if want := m.accounts * m.initialBalance; total != want || accounts != m.accounts {
		problems = append(problems, fmt.Sprintf("total balance is %d over %d accounts, want %d over %d (%d × %d)",
			total, accounts, want, m.accounts, m.accounts, m.initialBalance))
	}
	if negative > 0 {
		problems = append(problems, fmt.Sprintf("%d accounts have a negative balance", negative))
	}
	var drifted int64
	err = db.QueryRow(ctx, sqlDrift, m.initialBalance).Scan(&drifted)
	if err != nil {
		return nil, fmt.Errorf("comparing balances with transfers: %w", err)
	}
	if drifted > 0 {
		problems = append(problems, fmt.Sprintf("%d accounts' balances differ from initial balance + recorded transfers (a transfer was applied twice or not recorded)", drifted))
	}
	if run != nil {
		var recorded int64
		if err := db.QueryRow(ctx, `SELECT count(*) FROM transfers WHERE run_id = ANY($1)`, run.IDs()).Scan(&recorded); err != nil {
			return nil, fmt.Errorf("counting transfers: %w", err)
		}
		committed, unknown := run.Committed["transfer"], run.Ambiguous["transfer"]
		if recorded < committed || recorded > committed+unknown {
			problems = append(problems, fmt.Sprintf("transfers table holds %d transfers of this run, summary.json says %d committed%s",
				recorded, committed, unknownNote(unknown)))
		}
	}
	return problems, nil
}

// unknownNote mentions the transactions whose COMMIT outcome is unknown.
func unknownNote(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" and %d of unknown outcome (COMMIT sent, no answer)", n)
}

// sqlDrift counts accounts whose balance is not the initial balance plus
// incoming minus outgoing recorded transfers.
const sqlDrift = `
SELECT count(*) FROM accounts a
LEFT JOIN (SELECT dst AS id, sum(amount) AS amt FROM transfers GROUP BY dst) i ON i.id = a.id
LEFT JOIN (SELECT src AS id, sum(amount) AS amt FROM transfers GROUP BY src) o ON o.id = a.id
WHERE a.balance <> $1 + COALESCE(i.amt, 0) - COALESCE(o.amt, 0)`
