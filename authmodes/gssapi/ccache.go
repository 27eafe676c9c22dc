package gssapi

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/authbench/authbench/fix"
)

// ccachePath resolves KRB5CCNAME for a file cache (FILE:path or a bare
// path); unset means MIT's default, /tmp/krb5cc_<uid>.
func ccachePath() (string, error) {
	name := os.Getenv("KRB5CCNAME")
	if name == "" {
		return fmt.Sprintf("/tmp/krb5cc_%d", os.Getuid()), nil
	}
	typ, rest, ok := strings.Cut(name, ":")
	switch {
	case !ok || strings.HasPrefix(name, "/"):
		return name, nil
	case typ == "FILE":
		return rest, nil
	}
	return "", failure("krb-credentials", nil, fix.Textf("run kinit with KRB5CCNAME=FILE:/tmp/krb5cc_authbench, or pass %v", fix.Flag("krb-keytab")),
		"KRB5CCNAME=%s is a %s cache, which gokrb5 cannot read", name, typ)
}

// ccacheSource reads the credential cache once to learn its principal;
// want, when not empty, is the principal it must hold.
func ccacheSource(conf *krbConf, want string) (*source, error) {
	path, err := ccachePath()
	if err != nil {
		return nil, err
	}
	cc, err := loadCCache(path, "")
	if err != nil {
		return nil, err
	}
	name, realm := cc.DefaultPrincipal.PrincipalName.PrincipalNameString(), cc.DefaultPrincipal.Realm
	s := &source{kind: srcCCache, path: path, principal: name + "@" + realm, realm: realm, conf: conf}
	if want != "" {
		wn, wr, err := splitPrincipal(conf, want)
		if err != nil {
			return nil, err
		}
		if wn+"@"+wr != s.principal {
			return nil, failure("krb-credentials", nil, fix.Textf("run kinit %s@%s", wn, wr),
				"credential cache %s holds tickets of %s, not %v %s@%s", path, s.principal, fix.Flag("krb-principal"), wn, wr)
		}
	}
	if err := conf.checkRealm(realm, s.principal); err != nil {
		return nil, err
	}
	// No keys: this client only makes TGS requests with the cache's TGT.
	s.cl = client.NewWithKeytab(name, realm, keytab.New(), conf.cfg)
	return s, nil
}

// loadCCache reads the cache file; who, when set, names the principal in
// the hint.
func loadCCache(path, who string) (*credentials.CCache, error) {
	kinit := strings.TrimSpace("kinit " + who)
	cc, err := credentials.LoadCCache(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, failure("krb-credentials", err, fix.Textf("run %s, or pass %v or %v", kinit, fix.Flag("krb-keytab"), fix.Flag("krb-password-file")),
			"no Kerberos credentials cache at %s (KRB5CCNAME)", path)
	case err != nil:
		return nil, failure("krb-credentials", err, fix.Textf("run %s again", kinit), "credential cache %s: %s", path, pathError(err))
	}
	return cc, nil
}

// readCCache returns the TGT kinit (or a renewal daemon) last stored.
func (s *source) readCCache() (tgt, error) {
	cc, err := loadCCache(s.path, s.principal)
	if err != nil {
		return tgt{}, err
	}
	if p := cc.DefaultPrincipal.PrincipalName.PrincipalNameString() + "@" + cc.DefaultPrincipal.Realm; p != s.principal {
		return tgt{}, failure("tgt", nil, fix.Textf("run kinit %s", s.principal), "credential cache %s now holds tickets of %s, not %s", s.path, p, s.principal)
	}
	krbtgt := types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", s.realm}}
	c, ok := cc.GetEntry(krbtgt)
	if !ok {
		return tgt{}, failure("tgt", nil, fix.Textf("run kinit %s", s.principal), "credential cache %s has no TGT for %s", s.path, s.principal)
	}
	var tkt messages.Ticket
	if err := tkt.Unmarshal(c.Ticket); err != nil {
		return tgt{}, failure("tgt", err, fix.Textf("run kinit %s again", s.principal), "credential cache %s holds an unreadable TGT (%s)", s.path, oneLine(err.Error()))
	}
	t := tgt{ticket: tkt, key: c.Key, start: orTime(c.StartTime, c.AuthTime), end: c.EndTime,
		renewTill: c.RenewTill, renewable: types.IsFlagSet(&c.TicketFlags, flags.Renewable)}
	if !time.Now().Before(t.end) {
		return tgt{}, failure("tgt", nil, fix.Textf("run kinit %s again", s.principal), "the TGT in credential cache %s expired at %s", s.path, stamp(t.end))
	}
	return t, nil
}

func orTime(t, def time.Time) time.Time {
	if t.IsZero() || t.Unix() == 0 {
		return def
	}
	return t
}
