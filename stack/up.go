package stack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Up starts the stack described by cfg and returns its state. It is
// idempotent: on a stack that is already up it starts only what is down
// and reloads PostgreSQL if its configuration changed. Users accumulate
// (cfg's are added to those the stack has); the extra pg_hba and
// postgresql.conf lines and client CAs are cfg's. Progress goes to log.
func Up(ctx context.Context, cfg Config, log io.Writer) (*State, error) {
	if log == nil {
		log = io.Discard
	}
	if _, err := database(); err != nil {
		return nil, err
	}
	dir, err := makeStateDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if err := check(dir); err != nil {
		return nil, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	s, err := loadOrNewState(dir)
	if err != nil {
		return nil, err
	}
	s.merge(cfg)
	s.mergeComponents(cfg)
	caFile := s.settleCAFile()
	// Saved before anything starts, so Down can stop a half-made stack.
	if err := s.save(); err != nil {
		return nil, err
	}
	if err := s.up(ctx, log); err != nil {
		return nil, err
	}
	if s.CAFile != caFile {
		s.CAFile = caFile
		if err := s.save(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// check runs every Checker, so that a missing server binary or an
// unusable state dir fails Up before anything starts.
func check(dir string) error {
	for _, c := range Components() {
		if ch, ok := c.(Checker); ok {
			if err := ch.Check(dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// up runs the three phases of Up once the state is known: Prepare (what
// PostgreSQL's configuration needs), Start (the servers the others use),
// Finish (what needs them).
func (s *State) up(ctx context.Context, log io.Writer) error {
	if err := s.eachEnabled(func(c Component) error { return c.Prepare(ctx, s, log) }); err != nil {
		return err
	}
	if err := s.WriteServerTrust(); err != nil {
		return err
	}
	// Save what the components added (users, pg_hba lines, client CAs):
	// EnsureUser rewrites PostgreSQL's files from the saved state.
	if err := s.save(); err != nil {
		return err
	}
	if err := s.eachEnabled(func(c Component) error {
		if st, ok := c.(Starter); ok {
			return st.Start(ctx, s, log)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := s.eachEnabled(func(c Component) error { return c.Finish(ctx, s, log) }); err != nil {
		return err
	}
	fmt.Fprintf(log, "stack: up in %s; clients connect to %s:%d\n", s.Dir, s.LBHost, s.LBPort)
	return nil
}

// Down stops every process of the stack in dir and waits until they are
// gone. A dir with nothing running (or no stack at all) is not an error.
func Down(dir string, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("state dir %q: %w", dir, err)
	}
	if !exists(filepath.Join(abs, stateFile)) {
		fmt.Fprintf(log, "stack: nothing to stop in %s\n", abs)
		return nil
	}
	s, err := Load(abs)
	if err != nil {
		return err
	}
	unlock, err := lockDir(abs)
	if err != nil {
		return err
	}
	defer unlock()
	return s.stopComponents(log)
}

// makeStateDir returns dir as an absolute path, creating it (0755: when
// root, PostgreSQL runs as another user and must traverse it).
func makeStateDir(dir string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("no state directory given: set Config.Dir (the CLI default is .stack)")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("state dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("create state dir: %w", err)
	}
	return abs, nil
}

// loadOrNewState keeps the ports of an existing stack in dir.
func loadOrNewState(dir string) (*State, error) {
	if exists(filepath.Join(dir, stateFile)) {
		s, err := Load(dir)
		if err != nil {
			return nil, err
		}
		s.Dir = dir
		return s, nil
	}
	return newState(dir)
}

// lockDir takes an exclusive lock on the state dir so that two Up/Down
// calls do not interleave; the returned func releases it.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock state dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock state dir: %w", err)
	}
	return func() { f.Close() }, nil
}
