package doctor

import (
	"bytes"
	"cmp"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"

	"github.com/authbench/authbench/fix"
)

// CheckIssuer checks that cert's issuer is among the CAs the server said
// it accepts client certificates from (DER distinguished names); what
// names the certificate in messages ("client certificate", "SVID").
func CheckIssuer(cert *x509.Certificate, accepted [][]byte, what string) Check {
	if len(accepted) == 0 {
		return Skip("", "unknown which CAs the server accepts client certificates from (the tls step did not finish, or the server listed none)")
	}
	var names []string
	for _, dn := range accepted {
		if bytes.Equal(dn, cert.RawIssuer) {
			return Pass("", "the server accepts client certificates from its issuer %s", issuerName(cert))
		}
		names = append(names, cmp.Or(dnString(dn), "(empty subject)"))
	}
	return Fail("", fix.Textf("the %s's issuer %s is not among the CAs the server accepts client certificates from (%s)",
		what, issuerName(cert), strings.Join(names, "; ")),
		fix.Textf("use a certificate from one of those CAs, or add its CA to the server's client CAs (PostgreSQL: ssl_ca_file)"))
}

// dnString renders a DER distinguished name, or "?" when it does not parse.
func dnString(der []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return "?"
	}
	var n pkix.Name
	n.FillFromRDNSequence(&seq)
	return n.String()
}

// issuerName names a certificate's issuer: its CN, else its whole DN.
func issuerName(cert *x509.Certificate) string {
	switch {
	case cert.Issuer.CommonName != "":
		return "CN=" + cert.Issuer.CommonName
	case cert.Issuer.String() != "":
		return cert.Issuer.String()
	}
	return "(empty subject)"
}
