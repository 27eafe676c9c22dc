package gssapi

import (
	"errors"
	"os"
	"slices"
	"strings"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/fix"
)

// Credential sources for --krb-source.
const (
	srcKeytab   = "keytab"
	srcPassword = "password"
	srcCCache   = "ccache"
)

// source is where the TGT comes from, and the one gokrb5 client of the
// process that talks to the KDC for it.
type source struct {
	kind      string // srcKeytab, srcPassword or srcCCache
	path      string // the keytab, password file or ccache file
	principal string // name@REALM
	realm     string
	conf      *krbConf
	cl        *client.Client
}

// canLogin reports whether login gets a new TGT by itself; a ccache only
// yields what kinit put there.
func (s *source) canLogin() bool { return s.kind != srcCCache }

// settings describes the source for summary.json: paths and names only.
func (s *source) settings() map[string]string {
	return map[string]string{"krb_source": s.kind, s.kind + "_path": s.path, "principal": s.principal, "krb5_conf": s.conf.path}
}

// krbConf is a parsed Kerberos profile and where it came from.
type krbConf struct {
	path string
	cfg  *config.Config
}

// loadConf reads the profile; like MIT, KRB5_CONFIG may list several files,
// of which the first that exists is used.
func loadConf(paths string) (*krbConf, error) {
	var path string
	for _, p := range strings.Split(paths, ":") {
		if _, err := os.Stat(p); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		return nil, failure("krb5.conf", nil, fix.Textf("pass %v, or run `eval \"$(%v)\"` to set KRB5_CONFIG", fix.Flag("krb5-conf"), fix.Command("stack env")),
			"no Kerberos profile at %s", paths)
	}
	cfg, err := config.Load(path)
	var unsupported config.UnsupportedDirective
	if err != nil && !errors.As(err, &unsupported) {
		return nil, failure("krb5.conf", err, fix.Textf("fix the file or pass another %v", fix.Flag("krb5-conf")), "Kerberos profile %s: %s", path, oneLine(err.Error()))
	}
	return &krbConf{path: path, cfg: cfg}, nil
}

// realms lists the realms the profile names KDCs for.
func (c *krbConf) realms() []string {
	var out []string
	for _, r := range c.cfg.Realms {
		if len(r.KDC) > 0 {
			out = append(out, r.Realm)
		}
	}
	return out
}

// kdcs returns the KDC addresses of realm as the profile lists them.
func (c *krbConf) kdcs(realm string) string {
	for _, r := range c.cfg.Realms {
		if r.Realm == realm && len(r.KDC) > 0 {
			return strings.Join(r.KDC, ", ")
		}
	}
	return "(none)"
}

// checkRealm fails unless the profile can find a KDC for realm.
func (c *krbConf) checkRealm(realm, principal string) error {
	if c.cfg.LibDefaults.DNSLookupKDC || slices.Contains(c.realms(), realm) {
		return nil
	}
	return failure("krb-credentials", nil, fix.Textf("fix the realm in %v or point %v/KRB5_CONFIG at the right profile", fix.Flag("krb-principal"), fix.Flag("krb5-conf")),
		"realm %s of principal %s is not in %s, which has KDCs for %s", realm, principal, c.path, orNone(c.realms()))
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "no realm"
	}
	return strings.Join(list, ", ")
}

// newSource picks the credential source from the flags and checks it can
// work before any KDC is contacted.
func (m *mode) newSource(sqlUser string) (*source, error) {
	conf, err := loadConf(m.krb5Conf)
	if err != nil {
		return nil, err
	}
	kind, err := m.sourceKind()
	if err != nil {
		return nil, err
	}
	if kind == srcCCache {
		return ccacheSource(conf, m.changedPrincipal())
	}
	name, realm, err := splitPrincipal(conf, firstNonEmpty(m.principal, sqlUser))
	if err != nil {
		return nil, err
	}
	s := &source{kind: kind, principal: name + "@" + realm, realm: realm, conf: conf}
	if err := conf.checkRealm(realm, s.principal); err != nil {
		return nil, err
	}
	if kind == srcKeytab {
		return s, s.useKeytab(m.keytab, name)
	}
	return s, s.usePassword(m.passwordFile, name)
}

// sourceKind resolves --krb-source auto: a password file, else a keytab,
// else the credential cache.
func (m *mode) sourceKind() (string, error) {
	switch m.source {
	case "auto":
		switch {
		case m.passwordFile != "":
			return srcPassword, nil
		case m.keytab != "":
			return srcKeytab, nil
		}
		return srcCCache, nil
	case srcKeytab:
		if m.keytab == "" {
			return "", failure("settings", nil, fix.Textf("pass %v FILE (%v exports AUTHBENCH_KEYTAB)", fix.Flag("krb-keytab"), fix.Command("stack env")),
				"%v keytab needs a keytab", fix.Flag("krb-source"))
		}
		return srcKeytab, nil
	case srcPassword:
		if m.passwordFile == "" {
			return "", failure("settings", nil, fix.Textf("pass %v FILE", fix.Flag("krb-password-file")), "%v password needs a password file", fix.Flag("krb-source"))
		}
		return srcPassword, nil
	case srcCCache:
		return srcCCache, nil
	}
	return "", failure("settings", nil, fix.Textf("use auto, keytab, password or ccache"), "unknown %v %q", fix.Flag("krb-source"), m.source)
}

// changedPrincipal is --krb-principal when given on the command line: a ccache
// is then checked to hold that principal.
func (m *mode) changedPrincipal() string {
	if authmodes.Changed(m.fs, "krb-principal") {
		return m.principal
	}
	return ""
}

// splitPrincipal splits name[@REALM], defaulting the realm to the
// profile's default_realm.
func splitPrincipal(conf *krbConf, p string) (name, realm string, err error) {
	if p == "" {
		return "", "", failure("krb-credentials", nil, fix.Textf("pass %v (or %v), or run `eval \"$(%v)\"` to set AUTHBENCH_GSS_USER", fix.Flag("krb-principal"), fix.Flag("user"), fix.Command("stack env")),
			"no Kerberos principal")
	}
	name, realm, _ = strings.Cut(p, "@")
	if realm == "" {
		realm = conf.cfg.LibDefaults.DefaultRealm
	}
	if name == "" || realm == "" {
		return "", "", failure("krb-credentials", nil, fix.Textf("pass %v name@REALM", fix.Flag("krb-principal")),
			"principal %q has no name or no realm, and %s sets no default_realm", p, conf.path)
	}
	return name, realm, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// useKeytab loads the keytab and checks it has a key for the principal.
func (s *source) useKeytab(path, name string) error {
	s.path = path
	kt, err := keytab.Load(path)
	if err != nil {
		return failure("krb-credentials", err, fix.Textf("check %v (%v exports AUTHBENCH_KEYTAB)", fix.Flag("krb-keytab"), fix.Command("stack env")),
			"keytab %s: %s", path, pathError(err))
	}
	if err := keytabHas(kt, path, name, s.realm); err != nil {
		return err
	}
	s.cl = client.NewWithKeytab(name, s.realm, kt, s.conf.cfg)
	return nil
}

// keytabHas fails unless kt has a key for name@realm, naming what it holds.
func keytabHas(kt *keytab.Keytab, path, name, realm string) error {
	var held []string
	for _, e := range kt.Entries {
		p := strings.Join(e.Principal.Components, "/")
		if p == name && e.Principal.Realm == realm {
			return nil
		}
		if full := p + "@" + e.Principal.Realm; !slices.Contains(held, full) {
			held = append(held, full)
		}
	}
	for _, h := range held {
		if n, _, _ := strings.Cut(h, "@"); n == name {
			return failure("krb-credentials", nil, fix.Textf("the realm is wrong; use %v %s", fix.Flag("krb-principal"), h), "keytab %s holds %s, not %s@%s", path, h, name, realm)
		}
	}
	return failure("krb-credentials", nil, fix.Textf("check %v, or export the principal's keys into the keytab", fix.Flag("krb-principal")),
		"keytab %s has no key for %s@%s (it holds %s)", path, name, realm, orNone(held))
}

// usePassword reads the password file; the password stays in memory.
func (s *source) usePassword(path, name string) error {
	s.path = path
	b, err := os.ReadFile(path)
	if err != nil {
		return failure("krb-credentials", err, fix.Textf("check %v", fix.Flag("krb-password-file")), "Kerberos password file %s: %s", path, pathError(err))
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return failure("krb-credentials", nil, fix.Textf("check %v", fix.Flag("krb-password-file")), "Kerberos password file %s is empty", path)
	}
	s.cl = client.NewWithPassword(name, s.realm, pw, s.conf.cfg)
	return nil
}

// pathError drops the path from an *os.PathError, which messages name anyway.
func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return oneLine(err.Error())
}
