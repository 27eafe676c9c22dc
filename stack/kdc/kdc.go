package kdc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// KDC is a KDC set up in Dir by Start. It may or may not be running: see
// Running.
type KDC struct {
	// Dir is the absolute state directory.
	Dir string
	// Realm is the Kerberos realm.
	Realm string
	// Port is the UDP and TCP port on 127.0.0.1.
	Port int
	// PID is the krb5kdc process id when Start or Load saw it running, else 0.
	PID int
	// Krb5Conf is the path of the generated client profile (KRB5_CONFIG).
	Krb5Conf string
	// KDCConf is the path of the generated KDC profile (KRB5_KDC_PROFILE).
	KDCConf string
	// TicketLifetime is the maximum ticket life of every principal.
	TicketLifetime time.Duration
	// RenewLifetime is the maximum renewable life of every principal.
	RenewLifetime time.Duration
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name, Value string
}

// String returns the variable as NAME=VALUE, the form exec.Cmd.Env takes.
func (e EnvVar) String() string { return e.Name + "=" + e.Value }

// binaries are the server-side programs Start and the admin methods need.
type binaries struct {
	kdc, util, admin string
}

func lookBinaries() (binaries, error) {
	var b binaries
	var err error
	for _, x := range []struct {
		dst  *string
		name string
	}{{&b.kdc, "krb5kdc"}, {&b.util, "kdb5_util"}, {&b.admin, "kadmin.local"}} {
		if *x.dst, err = lookBinary(x.name); err != nil {
			return b, err
		}
	}
	return b, nil
}

// Start sets up the KDC in cfg.Dir and starts krb5kdc detached, listening on
// 127.0.0.1 only. It is idempotent: the principal database is created once
// (with a random master password that is stashed and never printed), a
// running KDC with the same settings is left alone, and one with different
// port or lifetimes is restarted. It returns once the KDC answers on its port.
func Start(ctx context.Context, cfg Config) (*KDC, error) {
	bins, err := lookBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := prepareDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	prev, err := readState(dir)
	if err != nil {
		return nil, err
	}
	s, err := resolve(cfg, prev)
	if err != nil {
		return nil, err
	}
	if pid := readPID(dir); alive(pid) {
		if prev != nil && *prev == s {
			return newKDC(dir, s, pid), nil
		}
		if err := stopPID(pid); err != nil {
			return nil, err
		}
	}
	if s.Port, err = choosePort(cfg.Port, s.Port); err != nil {
		return nil, err
	}
	return launch(ctx, bins, dir, s)
}

// launch writes the profiles, creates the database if needed, applies the
// lifetimes to krbtgt and starts the daemon.
func launch(ctx context.Context, bins binaries, dir string, s state) (*KDC, error) {
	if err := writeFiles(dir, s); err != nil {
		return nil, err
	}
	if err := ensureDB(ctx, bins.util, dir, s.Realm); err != nil {
		return nil, err
	}
	k := newKDC(dir, s, 0)
	if err := k.modprinc(ctx, "krbtgt/"+s.Realm); err != nil {
		return nil, err
	}
	if err := startDaemon(ctx, bins.kdc, dir, s); err != nil {
		return nil, err
	}
	pid, err := waitReady(ctx, dir, s.Port)
	if err != nil {
		return nil, err
	}
	k.PID = pid
	return k, nil
}

// prepareDir makes dir absolute and creates it 0700: it will hold keytabs and
// the master key stash.
func prepareDir(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("kdc: Config.Dir is empty: set it to the stack's state directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("kdc: resolve %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", fmt.Errorf("kdc: create %s: %w: pick a writable directory", abs, err)
	}
	return abs, nil
}

// choosePort keeps a stored port while it is free, honours an explicitly
// requested one as is (krb5kdc reports it if busy), and otherwise picks a
// free port.
func choosePort(requested, stored int) (int, error) {
	if requested != 0 {
		return requested, nil
	}
	if stored != 0 && portFree(stored) {
		return stored, nil
	}
	return freePort()
}

// ensureDB creates the principal database and stash unless they exist.
func ensureDB(ctx context.Context, util, dir, realm string) error {
	db, stash := exists(filepath.Join(dir, dbFile)), exists(filepath.Join(dir, stashFile))
	switch {
	case db && stash:
		return nil
	case db:
		return fmt.Errorf("kdc: %s has a principal database but no stash file: remove %s/principal* to start afresh", dir, dir)
	}
	pw, err := randomPassword()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, util, "-r", realm, "create", "-s")
	cmd.Dir, cmd.Env = dir, env(dir)
	cmd.Stdin = strings.NewReader(pw + "\n" + pw + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kdc: kdb5_util create failed (%v): %s", err, lastOutputLine(string(out)))
	}
	return nil
}

// randomPassword returns a master password that exists only in memory and
// in the stash file's derived key.
func randomPassword() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("kdc: read random master password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

func newKDC(dir string, s state, pid int) *KDC {
	return &KDC{
		Dir:            dir,
		Realm:          s.Realm,
		Port:           s.Port,
		PID:            pid,
		Krb5Conf:       filepath.Join(dir, krb5ConfFile),
		KDCConf:        filepath.Join(dir, kdcConfFile),
		TicketLifetime: time.Duration(s.TicketLifetime) * time.Second,
		RenewLifetime:  time.Duration(s.RenewLifetime) * time.Second,
	}
}

// Stop stops the KDC whose state is in dir and waits until the process is
// gone. It is fine if the KDC is not running or was never set up.
func Stop(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("kdc: resolve %s: %w", dir, err)
	}
	if err := stopPID(readPID(abs)); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(abs, pidFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("kdc: remove pid file: %w", err)
	}
	return nil
}

// Load returns the KDC that Start set up in dir, running or not.
func Load(dir string) (*KDC, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("kdc: resolve %s: %w", dir, err)
	}
	s, err := readState(abs)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("kdc: no KDC set up in %s: start one there first", abs)
	}
	pid := readPID(abs)
	if !alive(pid) {
		pid = 0
	}
	return newKDC(abs, *s, pid), nil
}

// Running reports whether the KDC's krb5kdc process is alive now.
func (k *KDC) Running() bool { return alive(readPID(k.Dir)) }

// Env returns the variables a Kerberos client or tool needs to use this KDC:
// KRB5_CONFIG for clients (kinit, libpq, gokrb5 via config.Load) and
// KRB5_KDC_PROFILE so kadmin.local and kdb5_util work by hand. Neither is a
// secret.
func (k *KDC) Env() []EnvVar {
	return []EnvVar{
		{Name: "KRB5_CONFIG", Value: k.Krb5Conf},
		{Name: "KRB5_KDC_PROFILE", Value: k.KDCConf},
	}
}
