package postgres

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	"github.com/authbench/authbench/stack"
)

// pgSystemUser is who runs PostgreSQL when authbench runs as root.
const pgSystemUser = "postgres"

// pgUser is who runs initdb, pg_ctl and postgres: the current user, or the
// postgres system user when the current user is root.
type pgUser struct {
	name string
	cred *syscall.Credential // nil: the current user
}

// pgRunner returns who runs PostgreSQL for a state dir and, when that is the
// postgres system user, checks it can reach the state dir.
func pgRunner(dir string) (*pgUser, error) {
	if os.Geteuid() != 0 {
		return &pgUser{}, nil
	}
	u, err := user.Lookup(pgSystemUser)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL refuses to run as root and there is no %q system user: apt-get install postgresql creates it", pgSystemUser)
	}
	cred, err := credential(u)
	if err != nil {
		return nil, err
	}
	p := &pgUser{name: u.Username, cred: cred}
	return p, p.checkTraversable(dir)
}

func credential(u *user.User) (*syscall.Credential, error) {
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s has a non-numeric uid/gid (%s/%s): authbench needs a POSIX system", u.Username, u.Uid, u.Gid)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	ids, _ := u.GroupIds()
	for _, id := range ids {
		if g, err := strconv.ParseUint(id, 10, 32); err == nil {
			cred.Groups = append(cred.Groups, uint32(g))
		}
	}
	return cred, nil
}

// checkTraversable fails when the user cannot enter dir or one of its
// ancestors; it names the directory and the fix and changes nothing.
func (p *pgUser) checkTraversable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("check state dir: %w", err)
		}
		if !p.canEnter(fi) {
			return fmt.Errorf("PostgreSQL runs as user %s, who cannot enter %s: run \"chmod o+x %s\" or use a state dir whose parents are world-traversable (e.g. under /tmp)", p.name, d, d)
		}
		if parent := filepath.Dir(d); parent == d {
			return nil
		}
	}
}

func (p *pgUser) canEnter(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := fi.Mode().Perm()
	switch {
	case st.Uid == p.cred.Uid:
		return mode&0o100 != 0
	case st.Gid == p.cred.Gid || slices.Contains(p.cred.Groups, st.Gid):
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}

// owner is the owner PostgreSQL's files need; nil for the current user.
func (p *pgUser) owner() *stack.Owner {
	if p.cred == nil {
		return nil
	}
	return &stack.Owner{UID: int(p.cred.Uid), GID: int(p.cred.Gid)}
}

// chownTree gives root and everything below it to the user (root only).
func (p *pgUser) chownTree(root string) error {
	if p.cred == nil {
		return nil
	}
	uid, gid := int(p.cred.Uid), int(p.cred.Gid)
	return filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, uid, gid); err != nil {
			return fmt.Errorf("give %s to user %s: %w", path, p.name, err)
		}
		return nil
	})
}
