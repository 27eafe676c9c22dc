package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/authbench/authbench/stack"
	"github.com/jackc/pgx/v5"
)

// ensurePassword gives user the password in its password file, creating a
// random one first if there is none. The password is never logged: the
// session stops logging statements, and the ALTER ROLE is a parameter-free
// simple-protocol statement whose literal pgx quotes.
func (s cluster) ensurePassword(ctx context.Context, conn *pgx.Conn, user string) error {
	password, err := s.readOrCreatePassword(user)
	if err != nil {
		return err
	}
	return setPassword(ctx, conn, user, password)
}

// setPassword runs ALTER ROLE … PASSWORD without the password reaching the
// server's logs.
func setPassword(ctx context.Context, conn *pgx.Conn, user, password string) error {
	for _, stmt := range []string{
		"SET log_statement = 'none'",
		"SET log_min_error_statement = 'panic'",
		"SET password_encryption = 'scram-sha-256'",
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("prepare to set the password of %s: %w", user, err)
		}
	}
	_, err := conn.Exec(ctx, "ALTER ROLE "+ident(user)+" PASSWORD $1", pgx.QueryExecModeSimpleProtocol, password)
	if err != nil {
		return fmt.Errorf("set the password of %s: %w", user, err)
	}
	return nil
}

// readOrCreatePassword returns user's password, writing a new random one to
// its 0600 file when the file does not exist yet.
func (s cluster) readOrCreatePassword(user string) (string, error) {
	path := s.UserPasswordFile(user)
	data, err := os.ReadFile(path)
	if err == nil {
		if p := strings.TrimSpace(string(data)); p != "" {
			return p, nil
		}
		return "", fmt.Errorf("password file %s is empty: remove it so a new password is made", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read password: %w", err)
	}
	if err := os.MkdirAll(s.SecretsDir, 0o700); err != nil {
		return "", fmt.Errorf("create secrets directory: %w", err)
	}
	password := rand.Text() // 26 base32 characters, 130 bits
	if err := stack.WriteFileAtomic(path, []byte(password), 0o600, nil); err != nil {
		return "", err
	}
	return password, nil
}
