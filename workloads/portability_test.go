package workloads_test

// Portability of every workload's SQL between PostgreSQL 15 (the local
// stack) and CockroachDB (deploy/compose).
//
// Approach: a rule list, not CockroachDB's grammar. The standalone parser
// (github.com/cockroachdb/cockroachdb-parser) is not served by the module
// proxy these machines reach (403 on its version list), and the parser
// inside github.com/cockroachdb/cockroach is generated at build time (its
// sql.go is not in the module) and drags in the whole database. So each
// statement is normalised (comments dropped, literals and quoted
// identifiers blanked) and checked for: syntax that only one of the two
// servers accepts, or that both accept with different meaning; column
// types outside a set both treat alike; and shape (one statement, balanced
// parentheses, $n placeholders without gaps, no `?`). The statements come
// from bank.Statements() and from every SQL-looking string literal in the
// source of each workload package, so inline SQL and workloads that export
// nothing are covered as well.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/authbench/authbench/workloads/bank"
)

// rule is one construct a workload must not use, and why.
type rule struct {
	name, why string
	re        *regexp.Regexp
}

func r(name, pattern, why string) rule {
	return rule{name: name, why: why, re: regexp.MustCompile(`(?is)` + pattern)}
}

var rules = []rule{
	// PostgreSQL-only, or different on CockroachDB.
	r("serial", `\b(small|big)?serial[248]?\b`, "SERIAL is unique_rowid() on CockroachDB, not a sequence: use explicit ids"),
	r("reg-cast", `::\s*reg(class|proc|procedure|type|namespace|role|config|oper)\b`, "reg* casts read PostgreSQL's catalogs"),
	r("returning-into", `\breturning\b[^;()]*\binto\b`, "RETURNING … INTO is PL/pgSQL"),
	r("function", `\bcreate\s+(or\s+replace\s+)?(function|procedure|trigger|rule|aggregate|operator)\b`, "server-side code differs between the servers: keep logic in Go"),
	r("plpgsql", `\blanguage\s+plpgsql\b|\bdo\s+(''|\$)`, "PL/pgSQL blocks"),
	r("on-constraint", `\bon\s+conflict\s+on\s+constraint\b`, "ON CONFLICT ON CONSTRAINT is not supported by CockroachDB: name the columns"),
	r("pg-catalog", `\bpg_\w+`, "pg_ catalogs and functions (advisory locks, pg_sleep…) are PostgreSQL's"),
	r("listen-notify", `^\s*(listen|unlisten|notify)\b`, "LISTEN/NOTIFY is PostgreSQL-only"),
	r("tablespace", `\btablespace\b`, "tablespaces are PostgreSQL-only"),
	r("temp-table", `\bcreate\s+(global\s+|local\s+)?(temp|temporary|unlogged)\s+table\b`, "temporary tables are experimental on CockroachDB; UNLOGGED is ignored"),
	r("lock-table", `^\s*lock\b`, "LOCK TABLE is not supported by CockroachDB"),
	r("maintenance", `^\s*(vacuum|cluster|reindex)\b`, "maintenance commands are PostgreSQL's"),
	r("index-method", `\busing\s+(gist|brin|spgist|hash)\b|\bexclude\s+using\b`, "GiST/BRIN/SP-GiST/hash indexes and exclusion constraints are PostgreSQL-only"),
	r("inherits", `\binherits\b`, "table inheritance is PostgreSQL-only"),
	r("server-copy", `\bcopy\b[^;]*\b(from|to)\s+(''|program\b)`, "server-side COPY of files is PostgreSQL-only: COPY FROM STDIN is portable"),
	r("extension", `\bcreate\s+extension\b`, "extensions differ between the servers"),
	r("system-column", `\b(xmin|xmax|ctid|cmin|cmax)\b`, "system columns are PostgreSQL's"),
	r("domain", `\bcreate\s+domain\b`, "domains are not supported by CockroachDB"),
	r("alter-system", `\balter\s+system\b`, "ALTER SYSTEM is PostgreSQL's"),
	r("isolation", `\bisolation\s+level\s+(read\s+uncommitted|read\s+committed|repeatable\s+read)\b`, "weaker isolation levels are upgraded or gated by settings on CockroachDB: results would not compare"),
	// CockroachDB-only.
	r("upsert", `\bupsert\b`, "UPSERT is CockroachDB-only: use INSERT … ON CONFLICT"),
	r("crdb-time-travel", `\bas\s+of\s+system\s+time\b`, "AS OF SYSTEM TIME is CockroachDB-only"),
	r("crdb-internals", `\bcrdb_internal\b|\bunique_rowid\s*\(|\bexperimental_\w+|\bsplit\s+at\b|\bshow\s+ranges\b`, "CockroachDB internals"),
	r("crdb-ddl", `\bfamily\s+\w*\s*\(|\bstoring\s*\(|\binterleave\s+in\b`, "column families, STORING and INTERLEAVE are CockroachDB-only"),
	r("index-hint", `\w@\w`, "table@index hints are CockroachDB-only"),
}

// portableTypes are the column types PostgreSQL and CockroachDB store and
// compare alike. INT and INTEGER are not: 8 bytes on CockroachDB, 4 on
// PostgreSQL.
var portableTypes = map[string]bool{
	"INT2": true, "INT4": true, "INT8": true, "SMALLINT": true, "BIGINT": true,
	"BOOL": true, "BOOLEAN": true, "NUMERIC": true, "DECIMAL": true, "FLOAT8": true, "REAL": true, "DOUBLE": true,
	"TEXT": true, "VARCHAR": true, "CHAR": true, "BYTEA": true, "UUID": true, "JSONB": true,
	"DATE": true, "TIMESTAMP": true, "TIMESTAMPTZ": true, "INTERVAL": true,
}

var (
	reLineComment  = regexp.MustCompile(`--[^\n]*`)
	reBlockComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	reString       = regexp.MustCompile(`'(?:[^']|'')*'`)
	reIdent        = regexp.MustCompile(`"(?:[^"]|"")*"`)
	rePlaceholder  = regexp.MustCompile(`\$(\d+)`)
	reCreateTable  = regexp.MustCompile(`(?is)^\s*create\s+table\s+(if\s+not\s+exists\s+)?[\w."]+\s*\((.*)\)\s*$`)
)

// normalise drops comments and blanks literals and quoted identifiers, so
// that rules match SQL and not data.
func normalise(sql string) string {
	s := reBlockComment.ReplaceAllString(sql, " ")
	s = reLineComment.ReplaceAllString(s, " ")
	s = reString.ReplaceAllString(s, "''")
	return reIdent.ReplaceAllString(s, `"x"`)
}

// problems returns what keeps sql from running alike on both servers.
func problems(sql string) []string {
	s := normalise(sql)
	var out []string
	for _, ru := range rules {
		if m := ru.re.FindString(s); m != "" {
			out = append(out, fmt.Sprintf("%s (%q): %s", ru.name, strings.TrimSpace(m), ru.why))
		}
	}
	return append(out, shapeProblems(s)...)
}

// shapeProblems checks one statement, balanced parentheses, placeholders
// and, for CREATE TABLE, the column types.
func shapeProblems(s string) []string {
	var out []string
	if strings.Contains(strings.TrimRight(strings.TrimSpace(s), ";"), ";") {
		out = append(out, "several statements in one string: extended-protocol queries take one")
	}
	depth := 0
	for _, c := range s {
		if c == '(' {
			depth++
		} else if c == ')' {
			if depth--; depth < 0 {
				break
			}
		}
	}
	if depth != 0 {
		out = append(out, "unbalanced parentheses")
	}
	if strings.Contains(s, "?") {
		out = append(out, "'?' placeholders: both servers take $1, $2, …")
	}
	seen := map[int]bool{}
	for _, m := range rePlaceholder.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[1])
		seen[n] = true
	}
	for i := 1; i <= len(seen); i++ {
		if !seen[i] {
			out = append(out, fmt.Sprintf("placeholders skip $%d: both servers need $1…$n without gaps", i))
			break
		}
	}
	return append(out, typeProblems(s)...)
}

// typeProblems checks each column definition of a CREATE TABLE.
func typeProblems(s string) []string {
	m := reCreateTable.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	var out []string
	for _, def := range splitTopLevel(m[2]) {
		f := strings.Fields(strings.NewReplacer("(", " (", "[", " [").Replace(def))
		if len(f) < 2 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "PRIMARY", "UNIQUE", "CONSTRAINT", "FOREIGN", "CHECK", "INDEX", "EXCLUDE":
			continue
		}
		if typ := strings.ToUpper(f[1]); !portableTypes[typ] {
			out = append(out, fmt.Sprintf("column %s has type %s, not one both servers treat alike", f[0], f[1]))
		}
	}
	return out
}

// splitTopLevel splits s at commas outside parentheses.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

var sqlVerb = regexp.MustCompile(`^(SELECT|INSERT|UPDATE|DELETE|UPSERT|CREATE|DROP|ALTER|WITH|TRUNCATE|GRANT|REVOKE|SET|SHOW|COPY|LOCK|VACUUM|LISTEN|NOTIFY|DO|EXPLAIN|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b`)

// sourceSQL returns every SQL-looking string constant (an upper-case SQL
// verb first) in the non-test Go files of dir, with the position of each.
func sourceSQL(t *testing.T, dir string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			e, ok := n.(ast.Expr)
			if !ok {
				return true
			}
			s, ok := constString(e)
			if !ok {
				return true
			}
			if sqlVerb.MatchString(strings.TrimSpace(s)) {
				out[s] = fset.Position(e.Pos()).String()
			}
			return false
		})
	}
	return out
}

// constString folds a string literal or a + of string literals.
func constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return constString(e.X)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := constString(e.X)
		b, ok2 := constString(e.Y)
		return a + b, ok1 && ok2
	}
	return "", false
}

// workloadDirs returns the workload package directories under workloads/;
// test harnesses (workloadtest) are not workloads and run on PostgreSQL only.
func workloadDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "test") {
			continue
		}
		if goFiles, _ := filepath.Glob(filepath.Join(e.Name(), "*.go")); e.IsDir() && len(goFiles) > 0 {
			dirs = append(dirs, e.Name())
		}
	}
	sort.Strings(dirs)
	return dirs
}

func TestBankStatementsArePortable(t *testing.T) {
	stmts := bank.Statements()
	if len(stmts) < 4 {
		t.Fatalf("bank.Statements() returned %d statements, want the schema and the transfer's", len(stmts))
	}
	for _, s := range stmts {
		for _, p := range problems(s) {
			t.Errorf("bank statement %q: %s", oneLine(s), p)
		}
	}
}

func TestWorkloadSourceSQLIsPortable(t *testing.T) {
	dirs := workloadDirs(t)
	if len(dirs) == 0 {
		t.Fatal("no workload packages found under workloads/")
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			found := sourceSQL(t, dir)
			if len(found) == 0 {
				t.Fatalf("no SQL found in workloads/%s: the scanner or the workload changed", dir)
			}
			for s, pos := range found {
				for _, p := range problems(s) {
					t.Errorf("%s: %q: %s", pos, oneLine(s), p)
				}
			}
		})
	}
}

func TestSourceScanSeesBankStatements(t *testing.T) {
	found := sourceSQL(t, "bank")
	for _, s := range bank.Statements() {
		if _, ok := found[s]; !ok {
			t.Errorf("the source scan missed bank statement %q", oneLine(s))
		}
	}
}

func TestRulesRejectNonPortableSQL(t *testing.T) {
	bad := map[string]string{
		`CREATE TABLE t (id SERIAL PRIMARY KEY)`:                                    "serial",
		`CREATE TABLE t (id BIGSERIAL PRIMARY KEY)`:                                 "serial",
		`SELECT 'accounts'::regclass`:                                               "reg-cast",
		`INSERT INTO t (a) VALUES (1) RETURNING id INTO v`:                          "returning-into",
		`CREATE OR REPLACE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql`:     "function",
		`CREATE FUNCTION f() RETURNS void AS $$ BEGIN END $$ LANGUAGE plpgsql`:      "plpgsql",
		`DO $$ BEGIN PERFORM 1; END $$`:                                             "plpgsql",
		`INSERT INTO t (a) VALUES ($1) ON CONFLICT ON CONSTRAINT t_pkey DO NOTHING`: "on-constraint",
		`SELECT pg_advisory_xact_lock($1)`:                                          "pg-catalog",
		`SELECT relname FROM pg_class`:                                              "pg-catalog",
		`LISTEN transfers`:                                                          "listen-notify",
		`NOTIFY transfers, 'x'`:                                                     "listen-notify",
		`CREATE TABLE t (a INT8) TABLESPACE fast`:                                   "tablespace",
		`CREATE TEMP TABLE t (a INT8)`:                                              "temp-table",
		`CREATE UNLOGGED TABLE t (a INT8)`:                                          "temp-table",
		`LOCK TABLE accounts IN EXCLUSIVE MODE`:                                     "lock-table",
		`VACUUM accounts`:                                                           "maintenance",
		`CREATE INDEX ON t USING brin (a)`:                                          "index-method",
		`CREATE TABLE c (x INT8) INHERITS (p)`:                                      "inherits",
		`COPY accounts FROM '/tmp/accounts.csv'`:                                    "server-copy",
		`CREATE EXTENSION pgcrypto`:                                                 "extension",
		`SELECT xmin FROM accounts`:                                                 "system-column",
		`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`:                           "isolation",
		`UPSERT INTO accounts (id, balance) VALUES ($1, $2)`:                        "upsert",
		`SELECT * FROM accounts AS OF SYSTEM TIME '-10s'`:                           "crdb-time-travel",
		`SELECT * FROM crdb_internal.ranges`:                                        "crdb-internals",
		`CREATE TABLE t (id INT8 DEFAULT unique_rowid())`:                           "crdb-internals",
		`CREATE INDEX i ON t (a) STORING (b)`:                                       "crdb-ddl",
		`SELECT * FROM accounts@accounts_pkey`:                                      "index-hint",
		`SELECT * FROM accounts WHERE id = ?`:                                       "'?' placeholders",
		`UPDATE accounts SET balance = $3 WHERE id = $1`:                            "skip $2",
		`SELECT (1`:                                         "unbalanced",
		`DELETE FROM a; DELETE FROM b`:                      "several statements",
		`CREATE TABLE t (id INT PRIMARY KEY)`:               "type INT,",
		`CREATE TABLE t (id INT8 PRIMARY KEY, note STRING)`: "type STRING",
		`CREATE TABLE IF NOT EXISTS t (id INT8 PRIMARY KEY, amount MONEY NOT NULL)`:       "type MONEY",
		`CREATE TABLE t (id INT8 PRIMARY KEY, doc JSON, CONSTRAINT c CHECK (id > 0))`:     "type JSON",
		`SELECT count(*) FROM accounts /* */ WHERE id = $1 -- ok` + "\n" + `FOR UPDATE ?`: "'?' placeholders",
	}
	for sql, want := range bad {
		got := strings.Join(problems(sql), "\n")
		if !strings.Contains(got, want) {
			t.Errorf("%q: want a problem mentioning %q, got %q", sql, want, got)
		}
	}
}

func TestRulesAcceptPortableSQL(t *testing.T) {
	good := []string{
		`INSERT INTO transfers (id, amount) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		`INSERT INTO t (id) VALUES ($1) RETURNING id`,
		`SELECT count(*) FILTER (WHERE balance < 0), COALESCE(sum(balance), 0) FROM accounts`,
		`SELECT id FROM accounts WHERE id = $1 FOR UPDATE`,
		`DELETE FROM authbench_meta WHERE workload = 'pg_serial upsert listen'`,
		`SELECT "serial", "family" FROM t WHERE note = 'a@b'`,
		`CREATE TABLE t (id UUID PRIMARY KEY, n NUMERIC(12, 2) NOT NULL CHECK (n >= 0), at TIMESTAMPTZ NOT NULL DEFAULT now())`,
		`SELECT CAST($1 AS INT8) - p.stock FROM products AS p -- a comment with ? and pg_x`,
		"UPDATE accounts SET balance = balance - $2 WHERE id = $1 AND balance >= $2;",
		`WITH a AS (INSERT INTO t (id) VALUES ($1) RETURNING id), b AS (INSERT INTO u (t_id) SELECT id FROM a RETURNING t_id) SELECT count(*) FROM b`,
	}
	for _, sql := range good {
		if p := problems(sql); len(p) > 0 {
			t.Errorf("%q: portable, but got %q", sql, p)
		}
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
