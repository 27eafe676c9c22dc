package vault

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/authbench/authbench/stack"
)

// readSecrets reads each file's trimmed content; a missing or empty file
// is ErrStaleFile (Prepare writes them again).
func readSecrets(st *stack.State, paths ...string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			detail := "read " + p + ": " + unwrapPathError(err).Error()
			return nil, &stack.StackError{Dir: st.Dir, Component: Name, Err: stack.ErrStaleFile, Detail: detail, Cause: err}
		}
		if out[i] = strings.TrimSpace(string(data)); out[i] == "" {
			return nil, &stack.StackError{Dir: st.Dir, Component: Name, Err: stack.ErrStaleFile, Detail: p + " is empty"}
		}
	}
	return out, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readOrCreateSecret returns the file's content, writing gen()'s result to
// a new 0600 file first when there is none (or it is empty).
func readOrCreateSecret(path string, gen func() string) (string, error) {
	data, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(data)) != "" {
		return strings.TrimSpace(string(data)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	v := gen()
	if err := stack.WriteFileAtomic(path, []byte(v+"\n"), 0o600, nil); err != nil {
		return "", err
	}
	return v, nil
}

// migrateRootToken replaces a root token file written by an older
// authbench ("hvs.…", which Vault and OpenBao refuse as a custom id),
// stopping the server that runs with it first.
func (c component) migrateRootToken(st *stack.State, log io.Writer) error {
	v := Of(st)
	data, err := os.ReadFile(v.TokenFile)
	if err != nil || validRootToken(strings.TrimSpace(string(data))) {
		return nil // a missing file is created by Prepare
	}
	fmt.Fprintln(log, "vault: replacing the root token of an older authbench (Vault and OpenBao refuse its form)")
	if err := c.Stop(st, log); err != nil {
		return err
	}
	v.Server = v.Settings.server()
	if err := os.Remove(v.TokenFile); err != nil {
		return fmt.Errorf("remove the old root token file: %w", err)
	}
	return nil
}

// validRootToken reports whether Vault and OpenBao accept id as a custom
// root token id: no period, so no "hvs."/"s." prefix either.
func validRootToken(id string) bool { return id != "" && !strings.Contains(id, ".") }

// newRootToken is a random root token id that Vault and OpenBao both
// accept for -dev-root-token-id: no period and no "hvs."/"s." prefix
// (their token stores refuse custom ids that look like their own tokens).
func newRootToken() string { return "authbench-root-" + rand.Text() }
