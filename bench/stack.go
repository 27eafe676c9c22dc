package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/kdc"
)

// benchStack is the local stack the comparison runs on, in a directory of
// its own, and what each tool needs to reach it.
type benchStack struct {
	st     *stack.State
	dir    string // the state directory, removed by stop unless kept
	pgpass string // libpq password file for the password user (0600)
	ccache string // Kerberos credential cache filled by kinit (gssapi)
}

// startStack brings up PKI, PostgreSQL and HAProxy (and a KDC when gssapi
// is measured) in a fresh temporary directory.
func startStack(ctx context.Context, cfg *Config, log io.Writer) (*benchStack, error) {
	sc := stack.Config{Users: stack.DefaultUsers(), Exe: cfg.Authbench}
	if cfg.wantsGSS() {
		kdc.Enable(&sc, kdc.Settings{})
	}
	st, err := stack.UpTemp(ctx, "authbench-bench-", sc, log)
	if err != nil {
		return nil, err
	}
	bs := &benchStack{st: st, dir: st.Dir}
	if err := bs.writePgpass(); err != nil {
		bs.stop(false, log)
		return nil, err
	}
	if cfg.wantsGSS() {
		if err := bs.kinit(ctx); err != nil {
			bs.stop(false, log)
			return nil, err
		}
	}
	return bs, nil
}

// stop brings the stack down and removes its directory unless keep.
func (bs *benchStack) stop(keep bool, log io.Writer) {
	if keep {
		fmt.Fprintf(log, "bench: the stack keeps running in %s (authbench stack down --dir %s)\n", bs.dir, bs.dir)
		return
	}
	if err := stack.Discard(bs.dir, log); err != nil {
		fmt.Fprintf(log, "bench: stack down: %v\n", err)
	}
}

// writePgpass gives libpq the password user's password through a 0600
// file, so that it never shows in an environment or a command line.
func (bs *benchStack) writePgpass() error {
	u, ok := bs.st.FirstUser(stack.MethodPassword)
	if !ok {
		return fmt.Errorf("the stack has no password user")
	}
	pw, err := os.ReadFile(bs.st.UserPasswordFile(u.Name))
	if err != nil {
		return fmt.Errorf("read the password of %s: %w", u.Name, err)
	}
	bs.pgpass = filepath.Join(bs.dir, "pgpass")
	line := fmt.Sprintf("%s:%d:%s:%s:%s\n", bs.st.LBHost, bs.st.LBPort, bs.st.Database, u.Name, trimNL(string(pw)))
	return os.WriteFile(bs.pgpass, []byte(line), 0o600)
}

// kinit fills a credential cache of our own from the gss user's keytab,
// for libpq (authbench logs in from the keytab itself).
func (bs *benchStack) kinit(ctx context.Context) error {
	k := kdc.Of(bs.st)
	u, ok := bs.st.FirstUser(stack.MethodGSS)
	if k == nil || !ok {
		return fmt.Errorf("the stack has no KDC or no gss user")
	}
	bs.ccache = "FILE:" + filepath.Join(bs.dir, "krb5cc_bench")
	cmd := exec.CommandContext(ctx, "kinit", "-kt", k.ClientKeytab(u.Name), u.Name)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+k.Krb5Conf, "KRB5CCNAME="+bs.ccache)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kinit %s: %v: %s (is krb5-user installed? make deps)", u.Name, err, trimNL(string(out)))
	}
	return nil
}

// authbenchEnv is the environment of authbench: ours plus `stack env`.
func (bs *benchStack) authbenchEnv() []string {
	return bs.st.Environ()
}

// libpqEnv is pgbench's (and psql's) environment for an auth mode: the
// same load balancer, database, user and TLS verification as authbench.
// GSS encryption is off for every mode: TLS carries the traffic, as it
// does for authbench.
func (bs *benchStack) libpqEnv(mode string) ([]string, error) {
	st, env := bs.st, bs.libpqBase()
	noCert := filepath.Join(bs.dir, "no-client-cert") // libpq sends no certificate
	switch mode {
	case "cert":
		u, _ := st.FirstUser(stack.MethodCert)
		crt, key := st.ClientCertFiles(u.Name)
		return append(env, "PGUSER="+u.Name, "PGSSLCERT="+crt, "PGSSLKEY="+key), nil
	case "password":
		u, _ := st.FirstUser(stack.MethodPassword)
		return append(env, "PGUSER="+u.Name, "PGPASSFILE="+bs.pgpass, "PGSSLCERT="+noCert), nil
	case "gssapi":
		u, _ := st.FirstUser(stack.MethodGSS)
		k := kdc.Of(st)
		return append(env, "PGUSER="+u.Name, "PGSSLCERT="+noCert, "PGKRBSRVNAME=postgres",
			"KRB5_CONFIG="+k.Krb5Conf, "KRB5CCNAME="+bs.ccache), nil
	}
	return nil, fmt.Errorf("unknown auth mode %q", mode)
}

// libpqBase is what every libpq client of the stack shares.
func (bs *benchStack) libpqBase() []string {
	st := bs.st
	return append(os.Environ(),
		"PGHOST="+st.LBHost, "PGPORT="+strconv.Itoa(st.LBPort), "PGDATABASE="+st.Database,
		"PGSSLMODE=verify-full", "PGSSLROOTCERT="+st.CAFile, "PGGSSENCMODE=disable",
		"PGCONNECT_TIMEOUT=10")
}

// adminEnv is psql's environment as the superuser (by certificate).
func (bs *benchStack) adminEnv() []string {
	crt, key := bs.st.ClientCertFiles(bs.st.AdminUser)
	return append(bs.libpqBase(), "PGUSER="+bs.st.AdminUser, "PGSSLCERT="+crt, "PGSSLKEY="+key)
}

func trimNL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
