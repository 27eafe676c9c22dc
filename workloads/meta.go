package workloads

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/fix"
)

// ReadMeta reads the integer parameters init recorded for workload in the
// authbench_meta table. A database where the workload was never loaded (no
// table, no rows) gives a *fix.Error that says to run init.
func ReadMeta(ctx context.Context, db *pgxpool.Pool, workload string) (map[string]int64, error) {
	notLoaded := &fix.Error{Step: "workload",
		What: fix.Textf("the %s workload is not loaded in this database", workload),
		Fix:  fix.Textf("run `%v` first", fix.Command("init "+workload))}
	rows, _ := db.Query(ctx, `SELECT key, value FROM authbench_meta WHERE workload = $1`, workload)
	kv, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var k, v string
		err := r.Scan(&k, &v)
		return [2]string{k, v}, err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return nil, notLoaded
	}
	if err != nil {
		return nil, fmt.Errorf("reading the %s parameters: %w", workload, err)
	}
	if len(kv) == 0 {
		return nil, notLoaded
	}
	m := make(map[string]int64, len(kv))
	for _, p := range kv {
		n, _ := strconv.ParseInt(p[1], 10, 64)
		m[p[0]] = n
	}
	return m, nil
}

// Reload is the error for a workload whose recorded data set cannot be
// run (what says why): a *fix.Error that says to run init for it again.
func Reload(workload string, what fix.Text) error {
	return &fix.Error{Step: "workload", What: what,
		Fix: fix.Textf("run `%v` again", fix.Command("init "+workload))}
}
