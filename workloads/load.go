package workloads

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// insertBatchRows is how many rows one INSERT carries when COPY is not used.
const insertBatchRows = 500

// CopyRows loads n rows into table: with COPY on PostgreSQL, and with
// multi-row INSERTs on CockroachDB (detected by its crdb_version parameter),
// whose COPY support differs between versions. row(i) returns row i.
func CopyRows(ctx context.Context, db *pgxpool.Pool, table string, cols []string, n int, row func(i int) []any) (int64, error) {
	crdb, err := IsCockroachDB(ctx, db)
	if err != nil {
		return 0, err
	}
	if !crdb {
		return db.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			return row(i), nil
		}))
	}
	var loaded int64
	for start := 0; start < n; start += insertBatchRows {
		end := min(start+insertBatchRows, n)
		sql, args := insertSQL(table, cols, start, end, row)
		tag, err := db.Exec(ctx, sql, args...)
		if err != nil {
			return loaded, err
		}
		loaded += tag.RowsAffected()
	}
	return loaded, nil
}

func insertSQL(table string, cols []string, start, end int, row func(i int) []any) (string, []any) {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", pgx.Identifier{table}.Sanitize(), strings.Join(cols, ", "))
	args := make([]any, 0, (end-start)*len(cols))
	for i := start; i < end; i++ {
		if i > start {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, v := range row(i) {
			if j > 0 {
				b.WriteString(", ")
			}
			args = append(args, v)
			fmt.Fprintf(&b, "$%d", len(args))
		}
		b.WriteByte(')')
	}
	return b.String(), args
}

// IsCockroachDB reports whether db is a CockroachDB cluster.
func IsCockroachDB(ctx context.Context, db *pgxpool.Pool) (bool, error) {
	c, err := db.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer c.Release()
	return c.Conn().PgConn().ParameterStatus("crdb_version") != "", nil
}
