package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/authbench/authbench/stack"
)

// A real `vault` or `bao` runs under `authbench stack serve-vault`, which
// supervises it: the server's stdout and stderr pass through a filter that
// removes every secret before the component's log gets them (dev mode
// prints its root token and unseal key), the unseal key stays in the
// supervisor's memory so that SIGUSR1/SIGUSR2 can seal and unseal it as
// they do the stand-in, and a start failure ends the log with the server's
// own error line.

// redacted replaces a secret in the log.
const redacted = "(redacted)"

// supervise runs the stack's real Vault dev server until ctx ends, writing
// its filtered output to out. It prints stack.ReadyPrefix once the server
// reports itself unsealed; startReal then configures it.
func supervise(ctx context.Context, st *stack.State, out io.Writer) error {
	v := Of(st)
	secrets, err := realSecrets(st)
	if err != nil {
		return err
	}
	f := &secretFilter{out: out, secrets: secrets}
	cmd := exec.Command(v.Server, "server", "-dev", "-dev-no-store-token")
	cmd.Dir = st.ComponentDir(Name)
	cmd.Env = realEnv(secrets[0], stack.HostPort("127.0.0.1", v.Port))
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group, so that stopping the supervisor's group does
	// not stop it before its leases are revoked; SIGTERM should the
	// supervisor die (Pdeathsig follows the thread that started it).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", v.Server, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	name := filepath.Base(v.Server)
	if err := waitReal(ctx, v.Addr, exited); err != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		return fmt.Errorf("%s exited at start: %w: %s", name, err, f.errorLine())
	}
	fmt.Fprintf(out, "%s %s dev server on %s (pid %d)\n", stack.ReadyPrefix, name, v.Addr, cmd.Process.Pid)
	stopSeal := sealRealOnSignals(st, f, out)
	defer stopSeal()
	select {
	case err := <-exited:
		return fmt.Errorf("%s exited: %w: %s", name, err, f.lastLine())
	case <-ctx.Done():
		// Its leases live only in its memory: revoke them (dropping their
		// database roles) before it goes, as the stand-in does.
		if err := revokeRealLeases(st); err != nil {
			fmt.Fprintf(out, "vault: could not revoke its leases before stopping: %s\n", f.redact(errLine(err)))
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
		return nil
	}
}

// realEnv passes the root token and listen address through the
// environment (VAULT_ and BAO_ prefixes), never argv.
func realEnv(token, listen string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C", "LANG=C", "HOME=" + os.Getenv("HOME")}
	for _, prefix := range []string{"VAULT", "BAO"} {
		env = append(env, prefix+"_DEV_ROOT_TOKEN_ID="+token, prefix+"_DEV_LISTEN_ADDRESS="+listen)
	}
	return env
}

// realSecrets are the values no log may hold: the root token first, then
// the AppRole's ids and the password Vault's database connection uses.
func realSecrets(st *stack.State) ([]string, error) {
	v := Of(st)
	out, err := readSecrets(st, v.TokenFile, v.RoleIDFile, v.SecretIDFile)
	if err != nil {
		return nil, err
	}
	if pw, err := readSecrets(st, st.UserPasswordFile(realAdminUser)); err == nil {
		out = append(out, pw...)
	}
	return out, nil
}

// waitReal waits until sys/health at addr says the dev server is
// unsealed; an error when it exits first or does not get there in time.
func waitReal(ctx context.Context, addr string, exited <-chan error) error {
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries, cfg.Timeout = 0, 2*time.Second // a port someone else holds may never answer
	client, err := api.NewClient(cfg)
	if err != nil {
		return fmt.Errorf("vault client: %w", err)
	}
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return exitErr(err)
		default:
		}
		if h, err := client.Sys().HealthWithContext(ctx); err == nil && h.Initialized && !h.Sealed {
			return nil
		}
		select {
		case err := <-exited:
			return exitErr(err)
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting for it to become ready: %w", ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("not ready in %s", readyTimeout)
		case <-tick.C:
		}
	}
}

// exitErr is how the server ended: its exit status.
func exitErr(err error) error {
	if err == nil {
		return errors.New("exit status 0")
	}
	return err
}

// readyTimeout bounds the wait for the dev server; shorter than
// stack.ReadyTimeout, so that `stack up` hears the server's own reason.
const readyTimeout = stack.ReadyTimeout - 10*time.Second

// sealRealOnSignals seals the server on SIGUSR1 and unseals it with the
// dev server's unseal key on SIGUSR2, until the returned func is called.
func sealRealOnSignals(st *stack.State, f *secretFilter, log io.Writer) func() {
	return onSealSignals(func(seal bool, sig os.Signal) {
		err := setRealSealed(st, seal, f.unsealKey())
		fmt.Fprintf(log, "vault: sealed=%v (%v), %s\n", seal, sig, f.redact(errText(err)))
	})
}

// setRealSealed seals or unseals the server through its API.
func setRealSealed(st *stack.State, seal bool, key string) error {
	client, err := RootClient(st)
	if err != nil {
		return err
	}
	if seal {
		return client.Sys().Seal()
	}
	if key == "" {
		return errors.New("the dev server printed no unseal key")
	}
	_, err = client.Sys().Unseal(key)
	return err
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return errLine(err)
}

// secretFilter is the writer the server's output goes through: each line
// loses every known secret and the values of dev mode's "Root Token:" and
// "Unseal Key:" lines (the unseal key is kept, in memory only) before out
// gets it.
type secretFilter struct {
	out     io.Writer
	secrets []string

	mu      sync.Mutex
	partial []byte
	key     string
	errLine []string // the first error line and its continuation lines
	last    string
}

// devSecretLabels are dev mode's banner lines whose value is a secret.
var devSecretLabels = []string{"Unseal Key:", "Root Token:"}

// Write filters p line by line; a partial last line waits for its end.
func (f *secretFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.partial = append(f.partial, p...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			break
		}
		line := f.filterLine(string(f.partial[:i]))
		f.partial = f.partial[i+1:]
		if _, err := io.WriteString(f.out, line+"\n"); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// filterLine redacts one line and remembers what errorLine needs.
func (f *secretFilter) filterLine(line string) string {
	for _, label := range devSecretLabels {
		if i := strings.Index(line, label); i >= 0 {
			if label == "Unseal Key:" {
				f.key = strings.TrimSpace(line[i+len(label):])
			}
			line = line[:i+len(label)] + " " + redacted
		}
	}
	line = f.redactLocked(line)
	trimmed := strings.TrimSpace(line)
	switch {
	case trimmed == "":
	case len(f.errLine) >= 4:
	case strings.HasPrefix(trimmed, "Error") || (len(f.errLine) == 0 && strings.Contains(line, "[ERROR]")),
		len(f.errLine) > 0 && line != trimmed && strings.HasPrefix(trimmed, "*"):
		f.errLine = append(f.errLine, trimmed)
	}
	if trimmed != "" {
		f.last = trimmed
	}
	return line
}

func (f *secretFilter) redact(s string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.redactLocked(s)
}

func (f *secretFilter) redactLocked(s string) string {
	for _, sec := range append(f.secrets, f.key) {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}

func (f *secretFilter) unsealKey() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.key
}

// errorLine is the server's own error lines (those starting "Error" and
// their "* …" details, at most four), else its first [ERROR] log line,
// else its last line.
func (f *secretFilter) errorLine() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errLine) > 0 {
		return errors.New(strings.Join(f.errLine, " "))
	}
	return errors.New(f.last)
}

func (f *secretFilter) lastLine() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// errLine is an API error's messages on one line.
func errLine(err error) string {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("HTTP %d: %s", re.StatusCode, strings.Join(strings.Fields(strings.Join(re.Errors, "; ")), " "))
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}
