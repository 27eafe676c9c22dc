package kdc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// principalRE allows name[/instance][@REALM] with no characters that
// kadmin.local's query parser would treat specially; a leading '-' would be
// read as an option.
var principalRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)?(@[A-Za-z0-9._-]+)?$`)

// checkPrincipal rejects names kadmin.local would misparse and names in
// another realm.
func (k *KDC) checkPrincipal(name string) error {
	if !principalRE.MatchString(name) {
		return fmt.Errorf("kdc: principal %q is not name[/instance][@REALM] of letters, digits, '.', '_' and '-' (not leading)", name)
	}
	if _, realm, ok := strings.Cut(name, "@"); ok && realm != k.Realm {
		return fmt.Errorf("kdc: principal %s is not in realm %s: drop the @realm or use @%s", name, k.Realm, k.Realm)
	}
	return nil
}

// AddPrincipal creates name with a random key and the configured maximum
// ticket and renewable lifetimes. If name exists it only re-applies the
// lifetimes, so keys and exported keytabs stay valid.
func (k *KDC) AddPrincipal(ctx context.Context, name string) error {
	if err := k.checkPrincipal(name); err != nil {
		return err
	}
	res, err := k.kadmin(ctx, "", "addprinc -randkey "+k.lifeFlags()+" "+name)
	if err != nil {
		return err
	}
	switch {
	case strings.Contains(res.stdout, "created."):
		return nil
	case strings.Contains(res.stderr, "already exists"):
		return k.modprinc(ctx, name)
	}
	return fmt.Errorf("kdc: add principal %s failed: %s", name, res.problem())
}

// modprinc applies the configured lifetimes to an existing principal.
func (k *KDC) modprinc(ctx context.Context, name string) error {
	res, err := k.kadmin(ctx, "", "modprinc "+k.lifeFlags()+" "+name)
	if err != nil {
		return err
	}
	if !strings.Contains(res.stdout, "modified.") {
		return fmt.Errorf("kdc: set lifetimes of %s failed: %s", name, res.problem())
	}
	return nil
}

func (k *KDC) lifeFlags() string {
	return fmt.Sprintf("-maxlife %ds -maxrenewlife %ds", seconds(k.TicketLifetime), seconds(k.RenewLifetime))
}

// ExportKeytab writes the current keys of principals to a keytab at path, mode
// 0600, replacing any file there. Keys are not regenerated (ktadd -norandkey),
// so keytabs exported earlier for the same principals stay valid.
func (k *KDC) ExportKeytab(ctx context.Context, path string, principals ...string) error {
	if len(principals) == 0 {
		return errors.New("kdc: ExportKeytab needs at least one principal")
	}
	for _, p := range principals {
		if err := k.checkPrincipal(p); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".keytab-")
	if err != nil {
		return fmt.Errorf("kdc: create temp dir beside %s: %w: check the directory exists and is writable", path, err)
	}
	defer os.RemoveAll(tmp)
	for _, p := range principals {
		if err := k.ktadd(ctx, tmp, p); err != nil {
			return err
		}
	}
	return installKeytab(filepath.Join(tmp, "keytab"), path)
}

// ktadd appends principal's keys to tmp/keytab. It runs in tmp with a
// relative keytab name so paths with spaces need no quoting.
func (k *KDC) ktadd(ctx context.Context, tmp, principal string) error {
	res, err := k.kadminIn(ctx, tmp, "", "ktadd -k keytab -norandkey "+principal)
	if err != nil {
		return err
	}
	if !strings.Contains(res.stdout, "Entry for principal "+principal+" ") {
		return fmt.Errorf("kdc: export %s to keytab failed: %s", principal, res.problem())
	}
	return nil
}

func installKeytab(tmpPath, path string) error {
	if err := os.Chmod(tmpPath, 0o600); err != nil {
		return fmt.Errorf("kdc: chmod keytab: %w", err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return fmt.Errorf("kdc: move keytab to %s: %w", path, err)
	}
	return nil
}

// SetPassword sets principal's password, creating the principal first if
// needed, for password-login tests. The password goes to kadmin.local on
// standard input, never on a command line or in a log or error. Changing the
// password replaces the principal's keys: keytabs exported for it before stop
// working.
func (k *KDC) SetPassword(ctx context.Context, principal, password string) error {
	if password == "" || strings.ContainsAny(password, "\r\n\x00") {
		return errors.New("kdc: password is empty or contains a newline or NUL: use a single-line password")
	}
	if err := k.AddPrincipal(ctx, principal); err != nil {
		return err
	}
	res, err := k.kadmin(ctx, password+"\n"+password+"\n", "cpw "+principal)
	if err != nil {
		return err
	}
	if !strings.Contains(res.stdout, "changed.") {
		return fmt.Errorf("kdc: set password of %s failed: %s", principal, res.problem())
	}
	return nil
}

// kadminResult is what one kadmin.local query printed. Success messages go
// to stdout, errors to stderr.
type kadminResult struct {
	stdout, stderr string
}

// problem returns the last line of stderr that explains a failed query,
// skipping the informational "No policy specified" notice.
func (r kadminResult) problem() string {
	var last string
	for _, l := range strings.Split(r.stderr, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "No policy specified") {
			last = l
		}
	}
	if last == "" {
		return "kadmin.local printed no error; run the query by hand with KRB5_CONFIG and KRB5_KDC_PROFILE from Env"
	}
	return last
}

// kadmin runs one kadmin.local query in the KDC directory.
func (k *KDC) kadmin(ctx context.Context, stdin, query string) (kadminResult, error) {
	return k.kadminIn(ctx, k.Dir, stdin, query)
}

// kadminIn runs one kadmin.local query in workdir with stdin as its standard
// input. kadmin.local -q exits 0 even when the query fails, so callers check
// stdout for the success message.
func (k *KDC) kadminIn(ctx context.Context, workdir, stdin, query string) (kadminResult, error) {
	bin, err := lookBinary("kadmin.local")
	if err != nil {
		return kadminResult{}, err
	}
	var stdout, stderr strings.Builder
	cmd := exec.CommandContext(ctx, bin, "-r", k.Realm, "-q", query)
	cmd.Dir, cmd.Env = workdir, env(k.Dir)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	res := kadminResult{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		return res, fmt.Errorf("kdc: kadmin.local %s failed (%v): %s", verb(query), err, res.problem())
	}
	return res, nil
}

func verb(query string) string {
	v, _, _ := strings.Cut(query, " ")
	return v
}

// lastOutputLine returns the last non-empty line of a command's output.
func lastOutputLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return l
	}
	return "no output"
}
