// Package vaultsrvtest holds an in-memory stand-in for the database behind
// the built-in Vault server (vaultsrv.DB) and Serve, which runs the server
// on a loopback listener, for the tests of the server and of the vault auth
// mode. It imports nothing of vaultsrv, so the server's own tests can use
// it.
package vaultsrvtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// DB is an in-memory vaultsrv.DB: roles with their password, VALID UNTIL
// and grants, a log of dropped roles and of the passwords SetPassword set.
// It is safe for concurrent use.
type DB struct {
	mu        sync.Mutex
	roles     map[string]*Role
	dropped   []string
	passwords map[string][]string // by role, in the order set
	failDrop  bool
}

// Role is one role of the DB.
type Role struct {
	Password   string
	ValidUntil time.Time
	Grants     []string
}

// NewDB returns a DB holding the existing roles (static roles' users), with
// no password yet.
func NewDB(existing ...string) *DB {
	db := &DB{roles: map[string]*Role{}, passwords: map[string][]string{}}
	for _, name := range existing {
		db.roles[name] = &Role{}
	}
	return db
}

// CreateRole creates a login role; one that exists already is an error.
func (db *DB) CreateRole(_ context.Context, name, password string, validUntil time.Time, grants []string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.roles[name]; ok {
		return fmt.Errorf("role %q already exists", name)
	}
	db.roles[name] = &Role{Password: password, ValidUntil: validUntil, Grants: slices.Clone(grants)}
	return nil
}

// SetValidUntil moves a role's VALID UNTIL.
func (db *DB) SetValidUntil(_ context.Context, name string, validUntil time.Time) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	r, ok := db.roles[name]
	if !ok {
		return fmt.Errorf("role %q does not exist", name)
	}
	r.ValidUntil = validUntil
	return nil
}

// DropRole drops a role and logs it; SetFailDrop makes it fail.
func (db *DB) DropRole(_ context.Context, name string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.failDrop {
		return fmt.Errorf("drop of %q refused", name)
	}
	delete(db.roles, name)
	db.dropped = append(db.dropped, name)
	return nil
}

// SetPassword sets an existing role's password and logs it.
func (db *DB) SetPassword(_ context.Context, name, password string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	r, ok := db.roles[name]
	if !ok {
		return fmt.Errorf("role %q does not exist", name)
	}
	r.Password = password
	db.passwords[name] = append(db.passwords[name], password)
	return nil
}

// Role returns a copy of the named role, or false.
func (db *DB) Role(name string) (Role, bool) {
	db.mu.Lock()
	defer db.mu.Unlock()
	r, ok := db.roles[name]
	if !ok {
		return Role{}, false
	}
	c := *r
	c.Grants = slices.Clone(r.Grants)
	return c, true
}

// Password returns the named role's current password ("" when it has
// none or does not exist).
func (db *DB) Password(name string) string {
	r, _ := db.Role(name)
	return r.Password
}

// RolesWithPrefix returns the names of the roles that start with prefix,
// sorted.
func (db *DB) RolesWithPrefix(prefix string) []string {
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []string
	for n := range db.roles {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// PasswordsOf returns the passwords SetPassword gave the named role,
// oldest first.
func (db *DB) PasswordsOf(name string) []string {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Clone(db.passwords[name])
}

// WasDropped tells whether the named role was dropped.
func (db *DB) WasDropped(name string) bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Contains(db.dropped, name)
}

// SetFailDrop makes DropRole fail (true) or work again (false).
func (db *DB) SetFailDrop(fail bool) {
	db.mu.Lock()
	db.failDrop = fail
	db.mu.Unlock()
}
