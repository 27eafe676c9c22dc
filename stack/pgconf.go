package stack

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/authbench/authbench/stack/pki"
)

// pgConfInclude is the file, next to postgresql.conf, holding our settings.
const pgConfInclude = "authbench.conf"

// pgConf renders the settings Up owns, then the caller's extra lines.
func (s *State) pgConf() string {
	crt, key := s.serverCertFiles()
	lines := []string{
		"# Written by `authbench stack up` on every run: edit Config.ExtraPGConf instead.",
		"listen_addresses = '127.0.0.1'",
		fmt.Sprintf("port = %d", s.PGPort),
		"unix_socket_directories = ''",
		"max_connections = 400",
		"shared_buffers = 128MB",
		"ssl = on",
		"ssl_cert_file = " + confQuote(crt),
		"ssl_key_file = " + confQuote(key),
		"ssl_ca_file = " + confQuote(s.ClientCAFile),
		"password_encryption = 'scram-sha-256'",
		"default_transaction_isolation = 'serializable'",
	}
	return strings.Join(append(lines, s.ExtraPGConf...), "\n") + "\n"
}

// pgHBA renders pg_hba.conf: cert for the admin, one line per cert or
// password user, the caller's extra lines, and a final reject. No trust.
func (s *State) pgHBA() (string, error) {
	lines := []string{
		"# Written by `authbench stack up` on every run: edit Config.ExtraHBA instead.",
		"# TYPE  DATABASE USER ADDRESS METHOD",
		hbaLine(s.AdminUser, "127.0.0.1/32", "cert"),
		hbaLine(s.AdminUser, "::1/128", "cert"),
	}
	for _, u := range s.Users {
		if err := validName(u.Name); err != nil {
			return "", err
		}
		switch u.Method {
		case MethodCert:
			lines = append(lines, hbaLine(u.Name, "127.0.0.1/32", "cert"))
		case MethodPassword:
			lines = append(lines, hbaLine(u.Name, "127.0.0.1/32", "scram-sha-256"))
		}
	}
	lines = append(lines, s.ExtraHBA...)
	lines = append(lines, "host all all 0.0.0.0/0 reject", "host all all ::/0 reject")
	return strings.Join(lines, "\n") + "\n", nil
}

func hbaLine(user, addr, method string) string {
	return fmt.Sprintf("hostssl all %s %s %s", hbaQuote(user), addr, method)
}

// plainName is a role name pg_hba.conf takes unquoted.
var plainName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// safeName is what a role name may contain (CNs may be DNS names).
var safeName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.@-]*$`)

func validName(name string) error {
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

// confQuote quotes a postgresql.conf string value.
func confQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// writePGFiles writes the client CA bundle, our postgresql.conf include and
// pg_hba.conf; it reports whether any of them changed.
func (s *State) writePGFiles(pu *pgUser) (bool, error) {
	bundle, err := s.clientCABundle()
	if err != nil {
		return false, err
	}
	hba, err := s.pgHBA()
	if err != nil {
		return false, err
	}
	files := []struct {
		path  string
		data  []byte
		perm  os.FileMode
		owner *pki.Owner
	}{
		{s.ClientCAFile, bundle, 0o644, nil},
		{filepath.Join(s.PGDataDir, pgConfInclude), []byte(s.pgConf()), 0o600, pu.owner()},
		{filepath.Join(s.PGDataDir, "pg_hba.conf"), []byte(hba), 0o600, pu.owner()},
	}
	changed := false
	for _, f := range files {
		if old, err := os.ReadFile(f.path); err == nil && bytes.Equal(old, f.data) {
			continue
		}
		if err := pki.WriteFileAtomic(f.path, f.data, f.perm, f.owner); err != nil {
			return false, err
		}
		changed = true
	}
	return changed, nil
}

// includePGConf makes postgresql.conf include our settings file.
func (s *State) includePGConf() error {
	path := filepath.Join(s.PGDataDir, "postgresql.conf")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("add authbench settings to postgresql.conf: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Settings of `authbench stack up`.\ninclude '%s'\n", pgConfInclude)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("add authbench settings to postgresql.conf: %w", err)
	}
	return nil
}
