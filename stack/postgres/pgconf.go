package postgres

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/authbench/authbench/stack"
)

// pgConfInclude is the file, next to postgresql.conf, holding our settings.
const pgConfInclude = "authbench.conf"

// pgConf renders the settings Up owns, then the caller's extra lines.
func (s cluster) pgConf() string {
	crt, key := s.PresentedServerCertFiles()
	lines := []string{
		"# Written by `authbench stack up` on every run: edit Config.ExtraPGConf instead.",
		"listen_addresses = '127.0.0.1'",
		fmt.Sprintf("port = %d", s.PGPort),
		"unix_socket_directories = ''",
		s.maxConnLine(),
		"shared_buffers = 128MB",
		"ssl = on",
		"ssl_cert_file = " + stack.ConfQuote(crt),
		"ssl_key_file = " + stack.ConfQuote(key),
		"ssl_ca_file = " + stack.ConfQuote(s.pg.ClientCAFile),
		"password_encryption = 'scram-sha-256'",
		"default_transaction_isolation = 'serializable'",
	}
	return strings.Join(append(lines, s.ExtraPGConf...), "\n") + "\n"
}

// pgHBA renders pg_hba.conf: cert for the admin, one line per cert or
// password user, the caller's extra lines, and a final reject. No trust.
func (s cluster) pgHBA() (string, error) {
	lines := []string{
		"# Written by `authbench stack up` on every run: edit Config.ExtraHBA instead.",
		"# TYPE  DATABASE USER ADDRESS METHOD",
		stack.HBALine(s.AdminUser, "127.0.0.1/32", "cert"),
		stack.HBALine(s.AdminUser, "::1/128", "cert"),
	}
	for _, u := range s.Users {
		if err := stack.ValidRoleName(u.Name); err != nil {
			return "", err
		}
		switch u.Method {
		case stack.MethodCert:
			lines = append(lines, stack.HBALine(u.Name, "127.0.0.1/32", "cert"))
		case stack.MethodPassword:
			lines = append(lines, stack.HBALine(u.Name, "127.0.0.1/32", "scram-sha-256"))
		}
	}
	lines = append(lines, s.ExtraHBA...)
	lines = append(lines, "host all all 0.0.0.0/0 reject", "host all all ::/0 reject")
	return strings.Join(lines, "\n") + "\n", nil
}

// writePGFiles writes the client CA bundle, our postgresql.conf include and
// pg_hba.conf; it reports whether any of them changed.
func (s cluster) writePGFiles(pu *pgUser) (bool, error) {
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
		owner *stack.Owner
	}{
		{s.pg.ClientCAFile, bundle, 0o644, nil},
		{filepath.Join(s.pg.DataDir, pgConfInclude), []byte(s.pgConf()), 0o600, pu.owner()},
		{filepath.Join(s.pg.DataDir, "pg_hba.conf"), []byte(hba), 0o600, pu.owner()},
	}
	changed := false
	for _, f := range files {
		if old, err := os.ReadFile(f.path); err == nil && bytes.Equal(old, f.data) {
			continue
		}
		if err := stack.WriteFileAtomic(f.path, f.data, f.perm, f.owner); err != nil {
			return false, err
		}
		changed = true
	}
	return changed, nil
}

// includePGConf makes postgresql.conf include our settings file.
func (s cluster) includePGConf() error {
	path := filepath.Join(s.pg.DataDir, "postgresql.conf")
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

// clientCABundle returns the CA followed by every ExtraClientCAs file.
func (s cluster) clientCABundle() ([]byte, error) {
	data, err := stack.ConcatPEM(append([]string{s.StackCAFile()}, s.ExtraClientCAs...))
	if err != nil {
		return nil, fmt.Errorf("client CAs: %w", err)
	}
	return data, nil
}
