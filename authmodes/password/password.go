// Package password is the SCRAM password auth mode, the baseline the other
// modes are compared with. The password is read from a file on every new
// connection, so a rotated password (ALTER ROLE plus a new file) is picked
// up without a restart. It never appears in output or files.
package password

import (
	"context"
	"crypto/sha256"
	"os"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/fix"
)

func init() {
	authmodes.Register(authmodes.Meta{
		Name:        "password",
		Description: "SCRAM-SHA-256 password read from a file on every new connection",
		New:         newMode,
	})
}

type mode struct {
	file   string
	mu     sync.Mutex
	digest [32]byte // of the password last used, to notice a rotation
	events authmodes.EventSink
}

func newMode(fs *pflag.FlagSet) authmodes.Mode {
	m := &mode{}
	fs.StringVar(&m.file, "password-file", os.Getenv("AUTHBENCH_PASSWORD_FILE"), "file holding the SQL user's password [$AUTHBENCH_PASSWORD_FILE]")
	return m
}

// DefaultUser is the stack's password user.
func (m *mode) DefaultUser() string { return os.Getenv("AUTHBENCH_PASSWORD_USER") }

// Settings names the password file; the password itself is never shown.
func (m *mode) Settings() map[string]string {
	return map[string]string{"password_file": m.file, "password": "(redacted)"}
}

// Close has nothing to stop.
func (m *mode) Close() error { return nil }

// Configure reads the password once to fail early, then again before every
// new connection.
func (m *mode) Configure(ctx context.Context, cfg *pgxpool.Config, env authmodes.Env) error {
	m.events = env.Events
	if m.file == "" {
		if cfg.ConnConfig.Password != "" {
			return nil // given in --url
		}
		return noPassword()
	}
	pw, err := m.read()
	if err != nil {
		return err
	}
	m.digest = sha256.Sum256([]byte(pw))
	prev := cfg.BeforeConnect
	cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
		if prev != nil {
			if err := prev(ctx, cc); err != nil {
				return err
			}
		}
		pw, err := m.read()
		if err != nil {
			return err
		}
		m.noticeRotation(pw)
		cc.Password = pw
		return nil
	}
	return nil
}

func (m *mode) read() (string, error) {
	b, err := os.ReadFile(m.file)
	if err != nil {
		return "", &fix.Error{Step: "password-file", What: fix.Textf("password file: %v", err), Err: err, Fix: checkFile, Credential: true}
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", &fix.Error{Step: "password-file", What: fix.Textf("password file %s is empty", m.file), Fix: checkFile, Credential: true}
	}
	return pw, nil
}

// checkFile is the fix of an unreadable or empty password file.
var checkFile = fix.Textf("check %v", fix.Flag("password-file"))

// noPassword is the error when no password is given at all.
func noPassword() error {
	return &fix.Error{Step: "password-file", What: fix.Textf("no password"),
		Fix: fix.Textf("pass %v, or run `eval \"$(%v)\"` first", fix.Flag("password-file"), fix.Command("stack env"))}
}

func (m *mode) noticeRotation(pw string) {
	d := sha256.Sum256([]byte(pw))
	m.mu.Lock()
	changed := d != m.digest
	m.digest = d
	m.mu.Unlock()
	if changed && m.events != nil {
		m.events.Event("rotation", "password", "new password read from "+m.file, true)
	}
}
