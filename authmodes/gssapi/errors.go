package gssapi

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/krberror"
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

// explain turns a gokrb5 error into one line that says what is wrong and
// what to do. spn is the service principal asked for ("" for the TGT).
func (s *session) explain(err error, spn string) error {
	msg := oneLine(err.Error())
	p, realm := s.src.principal, s.src.realm
	switch code := krbCode(msg); {
	case code == errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN && spn != "":
		return fmt.Errorf("Kerberos service principal %s not found in Kerberos database: check --krbsrvname (the service name in the server's keytab, e.g. postgres or customspn) or --krbspn", spn)
	case code == errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN:
		return fmt.Errorf("Kerberos principal %s not found in Kerberos database of the KDC at %s: check --krb-principal and its realm", p, s.src.conf.kdcs(realm))
	case code == errorcode.KDC_ERR_WRONG_REALM, code == errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN:
		return fmt.Errorf("the KDC at %s does not serve realm %s (of %s): fix the realm in --krb-principal, or the [realms] of %s", s.src.conf.kdcs(realm), realm, p, s.src.conf.path)
	case code == errorcode.KRB_AP_ERR_SKEW, strings.Contains(msg, "clock skew"):
		return fmt.Errorf("clock skew between this machine and the KDC at %s is too great (Kerberos allows 5 minutes): synchronise the clocks (NTP)", s.src.conf.kdcs(realm))
	case code == errorcode.KDC_ERR_PREAUTH_FAILED, strings.Contains(msg, "Decrypting_Error"):
		return fmt.Errorf("the KDC rejected the key of %s: the %s is outdated or wrong (keys change with every password change): export the keytab again or fix the password file", p, s.src.kind)
	case code == errorcode.KRB_AP_ERR_TKT_EXPIRED:
		return fmt.Errorf("the TGT of %s has expired and the KDC refused to use it: log in again (kinit, or restart with --krb-keytab)", p)
	case code == errorcode.KDC_ERR_ETYPE_NOSUPP:
		return fmt.Errorf("the KDC at %s and this client share no encryption type for %s: add aes256-cts-hmac-sha1-96 keys to the principal", s.src.conf.kdcs(realm), p)
	case networkError(err, msg):
		return fmt.Errorf("cannot reach the KDC of realm %s at %s (from %s): is it running? (authbench stack up starts the stack's KDC)", realm, s.src.conf.kdcs(realm), s.src.conf.path)
	case strings.Contains(msg, "no KDCs defined"):
		return fmt.Errorf("%s names no KDC for realm %s (of %s): fix the realm in --krb-principal or the profile", s.src.conf.path, realm, p)
	case strings.Contains(msg, "matching key not found in keytab"):
		return fmt.Errorf("keytab %s has no key of the encryption types the KDC offers for %s: export the principal's keys into the keytab again", s.src.path, p)
	}
	return fmt.Errorf("Kerberos error for %s: %s", p, rootCauseRE.ReplaceAllString(msg, ""))
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
