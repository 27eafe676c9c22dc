package vault

import (
	"crypto/rand"
	"errors"
	"fmt"
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

// newRootToken is a service-token-shaped random root token.
func newRootToken() string { return "hvs." + rand.Text() }
