package vaultsrv

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// fakeDB is an in-memory DB: roles with their password, VALID UNTIL and
// grants, a log of dropped roles and of the passwords SetPassword set.
type fakeDB struct {
	mu        sync.Mutex
	roles     map[string]*fakeRole
	dropped   []string
	passwords map[string][]string // by role, in the order set
	failDrop  bool
}

type fakeRole struct {
	password   string
	validUntil time.Time
	grants     []string
}

func newFakeDB(existing ...string) *fakeDB {
	db := &fakeDB{roles: map[string]*fakeRole{}, passwords: map[string][]string{}}
	for _, name := range existing {
		db.roles[name] = &fakeRole{}
	}
	return db
}

func (db *fakeDB) CreateRole(_ context.Context, name, password string, validUntil time.Time, grants []string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.roles[name]; ok {
		return fmt.Errorf("role %q already exists", name)
	}
	db.roles[name] = &fakeRole{password: password, validUntil: validUntil, grants: slices.Clone(grants)}
	return nil
}

func (db *fakeDB) SetValidUntil(_ context.Context, name string, validUntil time.Time) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	r, ok := db.roles[name]
	if !ok {
		return fmt.Errorf("role %q does not exist", name)
	}
	r.validUntil = validUntil
	return nil
}

func (db *fakeDB) DropRole(_ context.Context, name string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.failDrop {
		return fmt.Errorf("drop of %q refused", name)
	}
	delete(db.roles, name)
	db.dropped = append(db.dropped, name)
	return nil
}

func (db *fakeDB) SetPassword(_ context.Context, name, password string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	r, ok := db.roles[name]
	if !ok {
		return fmt.Errorf("role %q does not exist", name)
	}
	r.password = password
	db.passwords[name] = append(db.passwords[name], password)
	return nil
}

// role returns a copy of the named role, or false.
func (db *fakeDB) role(name string) (fakeRole, bool) {
	db.mu.Lock()
	defer db.mu.Unlock()
	r, ok := db.roles[name]
	if !ok {
		return fakeRole{}, false
	}
	return *r, true
}

// passwordsOf returns the passwords SetPassword gave the named role, oldest
// first.
func (db *fakeDB) passwordsOf(name string) []string {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Clone(db.passwords[name])
}

func (db *fakeDB) wasDropped(name string) bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Contains(db.dropped, name)
}

func (db *fakeDB) setFailDrop(fail bool) {
	db.mu.Lock()
	db.failDrop = fail
	db.mu.Unlock()
}
