package bank

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/fix"
	"github.com/authbench/authbench/workloads"
)

// Every statement here is valid on PostgreSQL and on CockroachDB.
const (
	sqlRecord = `INSERT INTO transfers (id, run_id, src, dst, amount) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`
	sqlDebit  = `UPDATE accounts SET balance = balance - $2 WHERE id = $1 AND balance >= $2`
	sqlCredit = `UPDATE accounts SET balance = balance + $2 WHERE id = $1`

	// The app style's statements, as SQLAlchemy's log shows them.
	sqlReadBalance = `SELECT accounts.id, accounts.balance FROM accounts WHERE accounts.id = $1`
	sqlSetBalance  = `UPDATE accounts SET balance=$1 WHERE accounts.id = $2`
	sqlAddBalance  = `UPDATE accounts SET balance=(accounts.balance + $1) WHERE accounts.id = $2`

	// sqlTransferOnce is the single style's transfer: the source's funds
	// are read, the transfer is recorded only when they suffice (nothing
	// when its id is already there), and the recorded transfer's amount
	// leaves the source and reaches the destination in one UPDATE, so that
	// no statement modifies a table twice (CockroachDB forbids it). It
	// returns whether the funds sufficed (1 or 0) and how many accounts it
	// changed. It holds no constant, so that pg_stat_statements shows its text
	// as sent.
	sqlTransferOnce = `WITH funds AS (SELECT balance >= CAST($5 AS INT8) AS ok FROM accounts WHERE id = $3),
recorded AS (
	INSERT INTO transfers (id, run_id, src, dst, amount)
	SELECT CAST($1 AS UUID), CAST($2 AS UUID), CAST($3 AS INT8), CAST($4 AS INT8), CAST($5 AS INT8) FROM funds WHERE funds.ok
	ON CONFLICT (id) DO NOTHING
	RETURNING src, dst, amount),
moved AS (
	UPDATE accounts SET balance = accounts.balance + CASE WHEN accounts.id = recorded.dst THEN recorded.amount ELSE -recorded.amount END
	FROM recorded WHERE accounts.id = recorded.src OR accounts.id = recorded.dst
	RETURNING accounts.id)
SELECT (SELECT count(*) FROM funds WHERE ok), (SELECT count(*) FROM moved)`
)

var schema = []string{
	`DROP TABLE IF EXISTS transfers`,
	`DROP TABLE IF EXISTS accounts`,
	`CREATE TABLE IF NOT EXISTS authbench_meta (workload TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (workload, key))`,
	`DELETE FROM authbench_meta WHERE workload = 'bank'`,
	`CREATE TABLE accounts (id INT8 PRIMARY KEY, balance INT8 NOT NULL)`,
	`CREATE TABLE transfers (
		id UUID PRIMARY KEY,
		run_id UUID NOT NULL,
		src INT8 NOT NULL,
		dst INT8 NOT NULL,
		amount INT8 NOT NULL,
		created_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`,
}

// Validate checks the flags before anything connects (workloads.Validator).
func (b *bank) Validate() error { return b.validate() }

// Tables lists the tables init creates.
func (b *bank) Tables() []string { return []string{"authbench_meta", "accounts", "transfers"} }

// Init creates the schema and loads the accounts with COPY.
func (b *bank) Init(ctx context.Context, db *pgxpool.Pool, log io.Writer) error {
	if err := b.validate(); err != nil {
		return err
	}
	for _, stmt := range schema {
		if _, err := db.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("creating the bank schema: %w", err)
		}
	}
	n, err := workloads.CopyRows(ctx, db, "accounts", []string{"id", "balance"}, int(b.accounts), func(i int) []any {
		return []any{int64(i), b.initialBalance}
	})
	if err != nil {
		return fmt.Errorf("loading accounts: %w", err)
	}
	_, err = db.Exec(ctx, `INSERT INTO authbench_meta (workload, key, value) VALUES
		('bank', 'accounts', $1), ('bank', 'initial_balance', $2)`,
		strconv.FormatInt(b.accounts, 10), strconv.FormatInt(b.initialBalance, 10))
	if err != nil {
		return fmt.Errorf("recording the bank's parameters: %w", err)
	}
	fmt.Fprintf(log, "bank: loaded %d accounts with balance %d each (total %d)\n", n, b.initialBalance, n*b.initialBalance)
	return nil
}

type bankMeta struct{ accounts, initialBalance int64 }

// readMeta reads what init recorded; a missing schema gets the fix.
func readMeta(ctx context.Context, db *pgxpool.Pool) (bankMeta, error) {
	kv, err := workloads.ReadMeta(ctx, db, "bank")
	if err != nil {
		return bankMeta{}, err
	}
	m := bankMeta{accounts: kv["accounts"], initialBalance: kv["initial_balance"]}
	if m.accounts < 2 {
		return m, workloads.Reload("bank", fix.Textf("the bank workload in this database has %d accounts", m.accounts))
	}
	return m, nil
}
