package gssapi

import (
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/authbench/authbench/fix"
)

// serviceTicket returns a service ticket for spn, from the cache or else
// from the KDC with the TGT.
func (s *session) serviceTicket(spn string) (svcTicket, error) {
	if t, ok := s.cached(spn); ok {
		return t, nil
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	if t, ok := s.cached(spn); ok {
		return t, nil
	}
	name, realm, err := s.splitSPN(spn)
	if err != nil {
		return svcTicket{}, err
	}
	cur, gen, err := s.validTGT()
	if err != nil {
		return svcTicket{}, err
	}
	_, rep, err := s.src.cl.TGSREQGenerateAndExchange(name, realm, cur.ticket, cur.key, false)
	if err != nil {
		return svcTicket{}, s.explain(err, s.fullSPN(spn))
	}
	t := newSvcTicket(rep.Ticket, rep.DecryptedEncPart)
	s.mu.Lock()
	if s.gen == gen { // the TGT was not replaced meanwhile
		s.tickets[spn] = t
	}
	s.mu.Unlock()
	return t, nil
}

func (s *session) cached(spn string) (svcTicket, bool) {
	s.mu.RLock()
	t, ok := s.tickets[spn]
	s.mu.RUnlock()
	return t, ok && t.fresh(time.Now())
}

// splitSPN turns service/host[@REALM] into a principal name and its
// realm, which must be the TGT's: authbench does not do cross-realm.
func (s *session) splitSPN(spn string) (types.PrincipalName, string, error) {
	name, realm, _ := strings.Cut(spn, "@")
	parts := strings.Split(name, "/")
	if realm == "" {
		realm = s.src.conf.cfg.ResolveRealm(parts[len(parts)-1])
	}
	if realm == "" {
		realm = s.src.realm
	}
	if name == "" || realm != s.src.realm {
		return types.PrincipalName{}, "", failure("spn", nil, fix.Textf("fix %v (service/host[@REALM]), or map the host to %s in [domain_realm] of %s", fix.Flag("krbspn"), s.src.realm, s.src.conf.path),
			"service principal %s is not a name in realm %s, the realm of %s",
			spn, s.src.realm, s.src.principal)
	}
	return types.PrincipalName{NameType: nametype.KRB_NT_SRV_HST, NameString: parts}, realm, nil
}

// fullSPN returns spn with its realm, e.g. customspn/localhost@EXAMPLE.COM.
func (s *session) fullSPN(spn string) string {
	if strings.Contains(spn, "@") {
		return spn
	}
	if _, realm, err := s.splitSPN(spn); err == nil {
		return spn + "@" + realm
	}
	return spn
}
