package faults

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// BankState is what SQL of this package's own finds in the bank's tables.
type BankState struct {
	Accounts int64 // rows in accounts
	Total    int64 // sum of the balances
	Negative int64 // accounts below zero
	Drifted  int64 // accounts whose balance is not initial + Σ recorded transfers
	Recorded int64 // transfers recorded under the run id
}

// sqlBankDrift counts accounts whose balance differs from the initial
// balance plus every recorded transfer in and minus every one out: a
// transfer applied twice, or applied and not recorded, shows here.
const sqlBankDrift = `
WITH moves AS (
	SELECT src AS id, -amount AS delta FROM transfers
	UNION ALL
	SELECT dst AS id, amount AS delta FROM transfers
), net AS (
	SELECT id, sum(delta) AS delta FROM moves GROUP BY id
)
SELECT count(*) FROM accounts a LEFT JOIN net n ON n.id = a.id
WHERE a.balance <> $1 + coalesce(n.delta, 0)`

// ReadBank reads the bank's state through conn (the stack's admin
// connection, straight to PostgreSQL); runIDs are the run ids whose
// recorded transfers are counted.
func ReadBank(ctx context.Context, conn *pgx.Conn, initial int64, runIDs ...string) (BankState, error) {
	var b BankState
	err := conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(balance), 0)::int8, count(*) FILTER (WHERE balance < 0) FROM accounts`).
		Scan(&b.Accounts, &b.Total, &b.Negative)
	if err != nil {
		return b, fmt.Errorf("reading accounts: %w", err)
	}
	if err := conn.QueryRow(ctx, sqlBankDrift, initial).Scan(&b.Drifted); err != nil {
		return b, fmt.Errorf("comparing balances with transfers: %w", err)
	}
	err = conn.QueryRow(ctx, `SELECT count(*) FROM transfers WHERE run_id = ANY($1::uuid[])`, runIDs).Scan(&b.Recorded)
	if err != nil {
		return b, fmt.Errorf("counting the run's transfers: %w", err)
	}
	return b, nil
}

// Problems compares the state with the bank's invariants: accounts ×
// initial in total, none negative, none drifted, and as many transfers
// recorded as the run's summary says it committed, plus at most the
// transfers whose COMMIT outcome it says is unknown.
func (b BankState) Problems(accounts, initial, committed, unknown int64) []string {
	var out []string
	if b.Accounts != accounts || b.Total != accounts*initial {
		out = append(out, fmt.Sprintf("total balance %d over %d accounts, want %d over %d", b.Total, b.Accounts, accounts*initial, accounts))
	}
	if b.Negative != 0 {
		out = append(out, fmt.Sprintf("%d accounts below zero", b.Negative))
	}
	if b.Drifted != 0 {
		out = append(out, fmt.Sprintf("%d accounts' balances are not initial + recorded transfers (a transfer applied twice or lost)", b.Drifted))
	}
	if b.Recorded < committed || b.Recorded > committed+unknown {
		out = append(out, fmt.Sprintf("%d transfers recorded for the run, summary.json says %d committed and %d of unknown outcome", b.Recorded, committed, unknown))
	}
	return out
}

// TransferCount returns how many transfers carry id (the bank's primary
// key: 0 or 1); id is as the proxy saw it in a Bind, 16 bytes binary or
// the 36-character text form.
func TransferCount(ctx context.Context, conn *pgx.Conn, id []byte) (int64, error) {
	var text string
	switch len(id) {
	case 16:
		text = fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16])
	case 36:
		text = string(id)
	default:
		return 0, fmt.Errorf("a transfer id of %d bytes is neither a binary nor a text uuid", len(id))
	}
	var n int64
	err := conn.QueryRow(ctx, `SELECT count(*) FROM transfers WHERE id = $1::uuid`, text).Scan(&n)
	return n, err
}
