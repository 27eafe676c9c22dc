package stack

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// What components add to the stack. Merge and Prepare call these; Up
// writes PostgreSQL's files from the result.

// AddUser adds u or updates the method of the user with u's name (roles,
// once made, keep their pg_hba line).
func (s *State) AddUser(u User) { s.addUser(u) }

// UserNames returns the names of the users with the given method.
func (s *State) UserNames(method string) []string {
	var out []string
	for _, u := range s.Users {
		if u.Method == method {
			out = append(out, u.Name)
		}
	}
	return out
}

// AddHBA adds the pg_hba lines s lacks, before the final reject lines.
func (s *State) AddHBA(lines ...string) { s.ExtraHBA = appendNew(s.ExtraHBA, lines...) }

// RemoveHBA removes pg_hba lines a component added earlier.
func (s *State) RemoveHBA(lines ...string) {
	s.ExtraHBA = slices.DeleteFunc(slices.Clone(s.ExtraHBA), func(l string) bool { return slices.Contains(lines, l) })
}

// AddPGConf adds the postgresql.conf lines s lacks.
func (s *State) AddPGConf(lines ...string) { s.ExtraPGConf = appendNew(s.ExtraPGConf, lines...) }

// AddClientCA adds a PEM file to the CAs PostgreSQL trusts for clients.
func (s *State) AddClientCA(path string) { s.ExtraClientCAs = appendNew(s.ExtraClientCAs, path) }

// appendNew appends the lines list lacks, never into the caller's Config
// slice that list may share its array with.
func appendNew(list []string, lines ...string) []string {
	list = slices.Clip(list)
	for _, l := range lines {
		if !slices.Contains(list, l) {
			list = append(list, l)
		}
	}
	return list
}

// HBALine is a pg_hba line letting user in from addr with method over TLS.
func HBALine(user, addr, method string) string {
	return fmt.Sprintf("hostssl all %s %s %s", hbaQuote(user), addr, method)
}

// plainName is a role name pg_hba.conf takes unquoted.
var plainName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// safeName is what a role name may contain (CNs may be DNS names).
var safeName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.@-]*$`)

// ValidRoleName says what is wrong with a role name the stack refuses.
func ValidRoleName(name string) error {
	if !safeName.MatchString(name) || len(name) > 63 {
		return fmt.Errorf("role name %q is not allowed: use up to 63 letters, digits, _ . @ -", name)
	}
	return nil
}

// hbaQuote quotes a role name unless it is a plain identifier that is not
// a pg_hba keyword.
func hbaQuote(name string) string {
	switch name {
	case "all", "sameuser", "samerole", "samegroup", "replication":
	default:
		if plainName.MatchString(name) {
			return name
		}
	}
	return `"` + name + `"`
}

// ConfQuote quotes a postgresql.conf string value.
func ConfQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// MaxSocketPath is the longest unix socket path the kernel accepts.
const MaxSocketPath = 107

// MkdirTraversable creates dir if need be and makes it 0755 even when it
// already existed, so that other users can reach the files inside.
func MkdirTraversable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("make %s traversable: %w", dir, err)
	}
	return nil
}

// HostPort joins host and port, e.g. "127.0.0.1:5432".
func HostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
