package gssapi

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/krberror"

	"github.com/authbench/authbench/fix"
)

// krbCodeRE finds the KDC's error code in gokrb5's text ("KRB Error: (7) …").
var krbCodeRE = regexp.MustCompile(`KRB Error: \((\d+)\)`)

// rootCauseRE is gokrb5's "[Root cause: …] " prefix.
var rootCauseRE = regexp.MustCompile(`^\[Root cause: [^\]]*\] `)

// krbCode returns the KDC error code in msg, or -1.
func krbCode(msg string) int32 {
	m := krbCodeRE.FindStringSubmatch(msg)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return int32(n)
}

// networkError reports whether gokrb5 could not talk to any KDC.
func networkError(err error, msg string) bool {
	var ke krberror.Krberror
	if errors.As(err, &ke) && ke.RootCause == krberror.NetworkingError {
		return true
	}
	return strings.Contains(msg, "error sending to a KDC") || strings.Contains(msg, "communication error with KDC")
}

// explain turns a gokrb5 error into what is wrong and what to do, err
// kept as the cause. spn is the service principal asked for ("" for the
// TGT).
func (s *session) explain(err error, spn string) error {
	msg := oneLine(err.Error())
	p, realm := s.src.principal, s.src.realm
	kdcs, profile := s.src.conf.kdcs(realm), s.src.conf.path
	e := func(step string, repair fix.Text, format string, args ...any) error {
		return &fix.Error{Step: step, What: fix.Textf(format, args...), Err: err, Fix: repair}
	}
	switch code := krbCode(msg); {
	case code == errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN && spn != "":
		return e("spn", fix.Textf("check %v (the service name in the server's keytab, e.g. postgres or customspn) or %v", fix.Flag("krbsrvname"), fix.Flag("krbspn")),
			"Kerberos service principal %s not found in Kerberos database", spn)
	case code == errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN:
		return e("tgt", fix.Textf("check %v and its realm", fix.Flag("krb-principal")), "Kerberos principal %s not found in Kerberos database of the KDC at %s", p, kdcs)
	case code == errorcode.KDC_ERR_WRONG_REALM, code == errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN:
		return e("tgt", fix.Textf("fix the realm in %v, or the [realms] of %s", fix.Flag("krb-principal"), profile), "the KDC at %s does not serve realm %s (of %s)", kdcs, realm, p)
	case code == errorcode.KRB_AP_ERR_SKEW, strings.Contains(msg, "clock skew"):
		return e("clock", fix.Textf("synchronise the clocks (NTP)"), "clock skew between this machine and the KDC at %s is too great (Kerberos allows 5 minutes)", kdcs)
	case code == errorcode.KDC_ERR_PREAUTH_FAILED, strings.Contains(msg, "Decrypting_Error"):
		return e("tgt", fix.Textf("export the keytab again or fix the password file"),
			"the KDC rejected the key of %s: the %s is outdated or wrong (keys change with every password change)", p, s.src.kind)
	case code == errorcode.KRB_AP_ERR_TKT_EXPIRED:
		return e("tgt", fix.Textf("log in again (kinit, or restart with %v)", fix.Flag("krb-keytab")), "the TGT of %s has expired and the KDC refused to use it", p)
	case code == errorcode.KDC_ERR_ETYPE_NOSUPP:
		return e("tgt", fix.Textf("add aes256-cts-hmac-sha1-96 keys to the principal"), "the KDC at %s and this client share no encryption type for %s", kdcs, p)
	case networkError(err, msg):
		return e("kdc", fix.Textf("is it running? (`%v` starts the stack's KDC)", fix.Command("stack up")),
			"cannot reach the KDC of realm %s at %s (from %s)", realm, kdcs, profile)
	case strings.Contains(msg, "no KDCs defined"):
		return e("kdc", fix.Textf("fix the realm in %v or the profile", fix.Flag("krb-principal")), "%s names no KDC for realm %s (of %s)", profile, realm, p)
	case strings.Contains(msg, "matching key not found in keytab"):
		return e("tgt", fix.Textf("export the principal's keys into the keytab again"),
			"keytab %s has no key of the encryption types the KDC offers for %s", s.src.path, p)
	}
	return e("tgt", fix.Text{}, "Kerberos error for %s: %s", p, rootCauseRE.ReplaceAllString(msg, ""))
}

// failure returns the error of step: what is wrong (formatted as by
// fix.Textf), its cause err (may be nil) and how to repair it.
func failure(step string, err error, repair fix.Text, format string, args ...any) error {
	return &fix.Error{Step: step, What: fix.Textf(format, args...), Err: err, Fix: repair}
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
