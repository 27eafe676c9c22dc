package postgres

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// pgBinDirs are where PostgreSQL 15's server binaries are looked for first
// (Debian keeps them off PATH).
var pgBinDirs = []string{"/usr/lib/postgresql/15/bin"}

// binaries are PostgreSQL's programs the stack runs.
type binaries struct {
	initdb, pgCtl string
}

// findBinaries locates initdb, pg_ctl and postgres.
func findBinaries() (binaries, error) {
	var b binaries
	dir, err := pgBinDir()
	if err != nil {
		return b, err
	}
	b.initdb, b.pgCtl = filepath.Join(dir, "initdb"), filepath.Join(dir, "pg_ctl")
	return b, nil
}

// pgBinDir returns the directory holding initdb, pg_ctl and postgres.
func pgBinDir() (string, error) {
	dirs := pgBinDirs
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs[:len(dirs):len(dirs)], filepath.Dir(p))
	}
	missing := "initdb"
	for _, dir := range dirs {
		if missing = firstMissing(dir, "initdb", "pg_ctl", "postgres"); missing == "" {
			return dir, nil
		}
	}
	return "", fmt.Errorf(`postgresql 15 not found (%s): run "make deps" or apt-get install postgresql`, missing)
}

// firstMissing returns the first of names that is not an executable in dir.
func firstMissing(dir string, names ...string) string {
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return n
		}
	}
	return ""
}

// tools finds the PostgreSQL binaries and the user that runs them for the
// cluster in dir: what starting, restarting or reloading it needs.
func tools(dir string) (binaries, *pgUser, error) {
	b, err := findBinaries()
	if err != nil {
		return binaries{}, nil, err
	}
	pu, err := pgRunner(dir)
	if err != nil {
		return binaries{}, nil, err
	}
	return b, pu, nil
}
