package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"
)

// modeFlagNames returns the flags each auth mode registers (old names
// included), from the modes' own registration.
func modeFlagNames() map[string][]string {
	out := map[string][]string{}
	for name, mode := range modeFlagOwners(true) {
		out[mode] = append(out[mode], name)
	}
	return out
}

// listed reports whether help text lists --name as a flag of its own.
func listed(help, name string) bool {
	return regexp.MustCompile(`(?m)^\s+(-\w, )?--` + regexp.QuoteMeta(name) + `[ \[]`).MatchString(help)
}

// help runs the command line, which must print help, and returns it.
func help(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := realMain(args, &out, &errb); code != 0 || errb.Len() != 0 {
		t.Fatalf("%v: exit %d, stderr %q", args, code, errb.String())
	}
	return out.String()
}

// assertModesListed checks help lists every current flag of the modes in
// want and no flag of the others; old names are never listed.
func assertModesListed(t *testing.T, args []string, want ...string) {
	t.Helper()
	h := help(t, args...)
	for mode, names := range modeFlagNames() {
		own := slices.Contains(want, mode)
		if own && !strings.Contains(h, "flags of --auth "+mode+":") {
			t.Errorf("%v: no section for --auth %s:\n%s", args, mode, h)
		}
		for _, name := range names {
			deprecated := modeOfFlagIsAlias(mode, name)
			if got := listed(h, name); got != (own && !deprecated) {
				t.Errorf("%v: --%s (of --auth %s, deprecated %v) listed = %v", args, name, mode, deprecated, got)
			}
		}
	}
}

func modeOfFlagIsAlias(mode, name string) bool {
	meta, _ := authmodes.Lookup(mode)
	fs := pflag.NewFlagSet(mode, pflag.ContinueOnError)
	meta.New(fs)
	return fs.Lookup(name).Deprecated != ""
}

func TestHelpShowsOnlyTheSelectedModesFlags(t *testing.T) {
	t.Setenv("AUTHBENCH_AUTH", "")
	for _, mode := range authmodes.Names() {
		assertModesListed(t, []string{"run", "bank", "--auth", mode, "--help"}, mode)
		assertModesListed(t, []string{"doctor", "--auth=" + mode, "--help"}, mode)
	}
	assertModesListed(t, []string{"run", "--auth", "cert", "--help"}, "cert")
	assertModesListed(t, []string{"handshake", "--auth", "gssapi", "-h"}, "gssapi")
	assertModesListed(t, []string{"init", "bank", "--auth", "vault", "--help"}, "vault")
	assertModesListed(t, []string{"matrix", "--auth", "cert,gssapi", "--help"}, "cert", "gssapi")
	assertModesListed(t, []string{"matrix", "--auth", "spiffe", "--auth", "vault", "--help"}, "spiffe", "vault")

	// Without --auth: the default mode's, and how to see another's.
	h := help(t, "run", "bank", "--help")
	assertModesListed(t, []string{"run", "bank", "--help"}, "cert")
	if !strings.Contains(h, "add --auth MODE to --help") || !strings.Contains(h, strings.Join(authmodes.Names(), ", ")) {
		t.Errorf("help does not say how to see another mode's flags:\n%s", h)
	}
	t.Setenv("AUTHBENCH_AUTH", "password")
	assertModesListed(t, []string{"run", "bank", "--help"}, "password")
}

func TestModeFlagsDoNotCollide(t *testing.T) {
	fs := newFlagSet("run")
	var o runOpts
	o.register(fs, []string{"--auth", "password"}, io.Discard)
	w, _, err := workloadArg("run", []string{"orders"}, fs)
	if err != nil || w == nil {
		t.Fatal(err)
	}
	owner := map[string]string{}
	for _, meta := range authmodes.All() {
		own := pflag.NewFlagSet(meta.Name, pflag.ContinueOnError)
		meta.New(own)
		own.VisitAll(func(f *pflag.Flag) {
			if other, ok := owner[f.Name]; ok {
				t.Errorf("--%s is a flag of both --auth %s and --auth %s", f.Name, other, meta.Name)
			}
			owner[f.Name] = meta.Name
			if fs.Lookup(f.Name) != nil && meta.Name != "password" {
				t.Errorf("--%s of --auth %s is also a flag of run itself", f.Name, meta.Name)
			}
		})
	}
}

func TestOldFlagNamesWorkWithOneDeprecationLine(t *testing.T) {
	for _, c := range []struct{ auth, old, name, value string }{
		{"gssapi", "keytab", "krb-keytab", "/k/bench.keytab"},
		{"gssapi", "principal", "krb-principal", "bench_gss@EXAMPLE.COM"},
		{"gssapi", "relogin-every", "krb-relogin-every", "1m0s"},
		{"spiffe", "recycle-jitter", "spiffe-recycle-jitter", "2s"},
		{"spiffe", "recycle-on-rotation", "spiffe-recycle-on-rotation", "true"},
	} {
		args := []string{"bank", "--auth", c.auth, "--" + c.old + "=" + c.value}
		fs := newFlagSet("run")
		var o runOpts
		var stdout, stderr bytes.Buffer
		o.register(fs, args, &stderr)
		_, rest, err := workloadArg("run", args, fs)
		if err == nil {
			err = parseFlags(fs, runUsage, rest, &stdout)
		}
		if err != nil {
			t.Errorf("--%s: %v", c.old, err)
			continue
		}
		if got := fs.Lookup(c.name).Value.String(); got != c.value {
			t.Errorf("--%s=%s set --%s to %q", c.old, c.value, c.name, got)
		}
		if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 ||
			!strings.Contains(lines[0], "--"+c.old+" has been deprecated, use --"+c.name+" instead") {
			t.Errorf("--%s: stderr %q, want one deprecation line naming --%s", c.old, stderr.String(), c.name)
		}
		if cfg := redactedFlags(fs); cfg[c.name] != c.value || cfg[c.old] != "" {
			t.Errorf("--%s: summary config has %q=%q and %q=%q", c.old, c.name, cfg[c.name], c.old, cfg[c.old])
		}
		if listed(help(t, "run", "bank", "--auth", c.auth, "--help"), c.old) {
			t.Errorf("help lists the old name --%s", c.old)
		}
	}
	// The old gssapi principal still counts as given on the command line.
	fs := pflag.NewFlagSet("gssapi", pflag.ContinueOnError)
	meta, _ := authmodes.Lookup("gssapi")
	meta.New(fs)
	if err := fs.Parse([]string{"--principal", "p"}); err != nil || !authmodes.Changed(fs, "krb-principal") {
		t.Errorf("--principal does not count as --krb-principal given (err %v)", err)
	}
}

func TestAnotherModesFlagNamesItsMode(t *testing.T) {
	t.Setenv("AUTHBENCH_AUTH", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "bank", "--auth", "cert", "--vault-role", "r"}, "--vault-role belongs to --auth vault, not to the selected --auth cert"},
		{[]string{"run", "bank", "--krb-keytab=/k"}, "--krb-keytab belongs to --auth gssapi, not to the selected --auth cert"},
		{[]string{"run", "bank", "--auth", "password", "--keytab", "/k"}, "--keytab belongs to --auth gssapi"},
		{[]string{"doctor", "--auth", "gssapi", "--spiffe-socket", "unix:///x"}, "--spiffe-socket belongs to --auth spiffe"},
		{[]string{"handshake", "--auth", "vault", "--password-file", "/p"}, "--password-file belongs to --auth password"},
		{[]string{"matrix", "--auth", "cert,gssapi", "--vault-addr", "http://x"}, "--vault-addr belongs to --auth vault, not to the selected --auth cert,gssapi"},
	} {
		var out, errb bytes.Buffer
		if code := realMain(c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", c.args, code, errb.String(), c.want)
		}
	}
}

func TestMatrixPassesEachModeItsFlags(t *testing.T) {
	args := []string{"--auth", "gssapi,spiffe", "--krb-keytab", "/k", "--recycle-jitter=3s", "--spiffe-recycle-jitter", "3s"}
	fs := newFlagSet("matrix")
	fs.StringSlice("auth", nil, "")
	addModeFlags(fs, args, true, nil, io.Discard)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	got := modeArgs(fs)
	if !slices.Equal(got["gssapi"], []string{"--krb-keytab=/k"}) || !slices.Equal(got["spiffe"], []string{"--spiffe-recycle-jitter=3s"}) || len(got) != 2 {
		t.Errorf("mode args %v", got)
	}
}

func TestScanAuth(t *testing.T) {
	def := []string{"cert"}
	for _, c := range []struct {
		args []string
		list bool
		want []string
	}{
		{nil, false, def},
		{[]string{"bank", "--auth", "vault"}, false, []string{"vault"}},
		{[]string{"--auth=gssapi", "--auth", "spiffe"}, false, []string{"spiffe"}},
		{[]string{"--auth", "a,b", "--auth=c"}, true, []string{"a", "b", "c"}},
		{[]string{"--", "--auth", "vault"}, false, def},
		{[]string{"--auth"}, false, def},
	} {
		if got := scanAuth(c.args, c.list, def); !slices.Equal(got, c.want) {
			t.Errorf("scanAuth(%v, %v) = %v, want %v", c.args, c.list, got, c.want)
		}
	}
}

// assertAuthSettings checks a run's summary.json: auth_settings is a JSON
// object holding the mode's settings and none of another mode's, config
// holds no flag of another mode, and neither holds any of secrets.
func assertAuthSettings(t *testing.T, dir, mode string, secrets ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Config       map[string]string `json:"config"`
		AuthSettings map[string]string `json:"auth_settings"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("summary.json: auth_settings is not an object of strings: %v", err)
	}
	for _, meta := range authmodes.All() {
		keys := meta.New(pflag.NewFlagSet(meta.Name, pflag.ContinueOnError)).Settings()
		for k := range keys {
			if _, ok := raw.AuthSettings[k]; ok != (meta.Name == mode) {
				t.Errorf("auth_settings of --auth %s: has %q (of --auth %s) = %v", mode, k, meta.Name, ok)
			}
		}
	}
	for other, names := range modeFlagNames() {
		for _, name := range names {
			if _, ok := raw.Config[name]; ok && other != mode {
				t.Errorf("config of --auth %s holds --%s of --auth %s", mode, name, other)
			}
		}
	}
	if _, ok := raw.Config["auth_settings"]; ok {
		t.Error("config still holds auth_settings as a string")
	}
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Errorf("summary.json holds a secret")
		}
	}
}

func TestOnlyVaultNamesTheUserItself(t *testing.T) {
	t.Setenv("AUTHBENCH_CERT_USER", "")
	for _, meta := range authmodes.All() {
		m := meta.New(pflag.NewFlagSet(meta.Name, pflag.ContinueOnError))
		if got := authmodes.IssuesUser(m); got != (meta.Name == "vault") {
			t.Errorf("IssuesUser(%s) = %v", meta.Name, got)
		}
		c := connFlags{auth: meta.Name}
		user, err := c.user(m)
		if meta.Name == "vault" && (user != "" || err != nil) {
			t.Errorf("vault without --user: user %q, err %v; want none and no error", user, err)
		}
		if meta.Name == "cert" && err == nil {
			t.Errorf("cert without --user or $AUTHBENCH_CERT_USER: no error")
		}
	}
}
