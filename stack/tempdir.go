package stack

import (
	"context"
	"fmt"
	"io"
	"os"
)

// TempDir creates a fresh state directory for a stack of a program's own
// (an experiment, a test) under the system's temporary directory. It is
// made traversable: PostgreSQL, run as user postgres when we are root,
// must enter it.
func TempDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", fmt.Errorf("create the stack directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("make %s traversable: %w", dir, err)
	}
	return dir, nil
}

// Discard stops the stack in dir, as Down does, and removes dir.
func Discard(dir string, log io.Writer) error {
	err := Down(dir, log)
	os.RemoveAll(dir)
	return err
}

// Environ returns the process environment with the stack's variables
// (Env) added: the environment of an authbench process pointed at it.
func (s *State) Environ() []string {
	out := os.Environ()
	for _, e := range s.Env() {
		out = append(out, e.Name+"="+e.Value)
	}
	return out
}

// UpTemp brings up the stack cfg describes in a fresh TempDir named after
// prefix (cfg.Dir is not used); when Up fails it discards what started.
// The caller ends the stack with Discard(st.Dir, log).
func UpTemp(ctx context.Context, prefix string, cfg Config, log io.Writer) (*State, error) {
	dir, err := TempDir(prefix)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	st, err := Up(ctx, cfg, log)
	if err != nil {
		_ = Discard(dir, log)
		return nil, fmt.Errorf("stack up: %w", err)
	}
	return st, nil
}
