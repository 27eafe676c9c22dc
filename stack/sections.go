package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// stateFields is State's own part of state.json; every other top-level
// key is a component's section.
type stateFields State

// MarshalJSON writes State's fields, then one key per component section.
func (s State) MarshalJSON() ([]byte, error) {
	core, err := json.Marshal((*stateFields)(&s))
	if err != nil {
		return nil, err
	}
	all := maps.Clone(s.legacy) // earlier versions' top-level fields, as read
	if all == nil {
		all = map[string]json.RawMessage{}
	}
	if err := json.Unmarshal(core, &all); err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(s.sections)) {
		data, err := json.Marshal(s.sections[name])
		if err != nil {
			return nil, fmt.Errorf("encode the %s section: %w", name, err)
		}
		if string(data) != "null" {
			all[name] = data
		}
	}
	return json.Marshal(all)
}

// UnmarshalJSON reads State's fields and keeps every other top-level key as
// a component's section, decoded when the component asks (Section).
func (s *State) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, (*stateFields)(s)); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	s.top = data
	for k, v := range all {
		if coreKeys[k] || string(v) == "null" {
			continue
		}
		if !isObject(v) { // a base component's field in a file of an earlier version
			if s.legacy == nil {
				s.legacy = map[string]json.RawMessage{}
			}
			s.legacy[k] = v
			continue
		}
		if s.sections == nil {
			s.sections = map[string]any{}
		}
		s.sections[k] = v
	}
	return nil
}

// isObject reports whether v is a JSON object, as every section is.
func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}

// coreKeys are the state.json keys of State's own fields.
var coreKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[stateFields]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}()

// Section returns the component name's section of s as a *T, decoding it
// from state.json on first use; later calls return the same pointer, so
// changes are saved with s. It returns nil when s has no such section, or
// when the section does not decode as a T (the component then starts anew).
func Section[T any](s *State, name string) *T {
	switch v := s.sections[name].(type) {
	case *T:
		return v
	case json.RawMessage:
		t := new(T)
		if err := json.Unmarshal(v, t); err != nil {
			return nil
		}
		s.sections[name] = t
		return t
	}
	return nil
}

// BaseSection is Section for the base components (pki, postgres, haproxy),
// whose fields state.json files of earlier versions kept at the top level:
// without a section of its own, the component's T is decoded from there
// (its fields keep their old keys), and saved as its section from then on.
// The old fields stay in the file too, for a base component that has not
// read its section yet.
func BaseSection[T any](s *State, name string) *T {
	if _, ok := s.sections[name]; !ok && s.top != nil {
		if s.sections == nil {
			s.sections = map[string]any{}
		}
		s.sections[name] = s.top
	}
	return Section[T](s, name)
}

// SetSection makes v the component name's section of s (nil removes it).
func SetSection[T any](s *State, name string, v *T) {
	if v == nil {
		delete(s.sections, name)
		return
	}
	if s.sections == nil {
		s.sections = map[string]any{}
	}
	s.sections[name] = v
}
