// Package registry is the name → value table behind the workload and auth
// mode registries.
package registry

import (
	"fmt"
	"sort"
	"strings"
)

// Registry maps names to values of one kind ("workload", "auth mode").
type Registry[T any] struct {
	kind  string
	items map[string]T
}

// New returns an empty registry whose errors call its entries kind.
func New[T any](kind string) *Registry[T] {
	return &Registry[T]{kind: kind, items: map[string]T{}}
}

// Add registers v under name; a second registration of a name is a
// programming error and panics at init.
func (r *Registry[T]) Add(name string, v T) {
	if _, dup := r.items[name]; dup {
		panic(fmt.Sprintf("duplicate registration of %s %q", r.kind, name))
	}
	r.items[name] = v
}

// Lookup returns the value registered under name, or an error that lists
// the known names.
func (r *Registry[T]) Lookup(name string) (T, error) {
	v, ok := r.items[name]
	if !ok {
		return v, fmt.Errorf("unknown %s %q: choose one of %s", r.kind, name, strings.Join(r.Names(), ", "))
	}
	return v, nil
}

// Names returns the registered names, sorted.
func (r *Registry[T]) Names() []string {
	ns := make([]string, 0, len(r.items))
	for n := range r.items {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}
