package gssapi

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/authbench/authbench/authmodes"

	"github.com/authbench/authbench/fix"
)

// session is the process's Kerberos state, shared by all connections: the
// TGT, the service tickets got with it, and the refresher that keeps the
// TGT valid.
type session struct {
	src    *source
	events authmodes.EventSink
	log    io.Writer

	mu       sync.RWMutex
	cur      tgt
	gen      int       // bumped whenever cur is replaced
	loggedIn time.Time // of the last fresh login
	tickets  map[string]svcTicket

	fetchMu   sync.Mutex // one service-ticket request at a time
	refreshMu sync.Mutex // one login or renewal at a time
	hosts     sync.Map   // host -> canonical host name

	stop context.CancelFunc
	done chan struct{}
}

func newSession(src *source, events authmodes.EventSink, log io.Writer) *session {
	return &session{src: src, events: events, log: log, tickets: map[string]svcTicket{}}
}

// start logs in and gets a service ticket for spn, so that a wrong
// principal, keytab or SPN shows before the load starts.
func (s *session) start(spn string) error {
	if err := s.login(false); err != nil {
		return err
	}
	_, err := s.serviceTicket(spn)
	return err
}

// current returns the TGT in use.
func (s *session) current() tgt {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur
}

// lastLogin returns when the last fresh login happened.
func (s *session) lastLogin() time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.loggedIn
}

// install replaces the TGT and forgets the service tickets got with the old
// one, so new connections present tickets of the new TGT.
func (s *session) install(t tgt, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur, s.gen, s.tickets = t, s.gen+1, map[string]svcTicket{}
	if fresh {
		s.loggedIn = time.Now()
	}
}

// login gets a fresh TGT: an AS exchange, or the ccache read again. A
// rotation is a login that replaces a TGT.
func (s *session) login(rotation bool) error {
	t, err := s.newTGT(rotation)
	if err != nil {
		return err
	}
	s.install(t, true)
	s.event("login", t, rotation)
	return nil
}

// newTGT gets a TGT without installing it; replacing says one is in use,
// which a ccache must then hold a newer TGT than.
func (s *session) newTGT(replacing bool) (tgt, error) {
	if s.src.kind != srcCCache {
		return s.asExchange()
	}
	t, err := s.src.readCCache()
	if err == nil && replacing && !t.end.After(s.current().end) {
		err = failure("tgt", nil, fix.Textf("run kinit %s again", s.src.principal),
			"the TGT of %s expires at %s, cannot be renewed and credential cache %s has no newer one", s.src.principal, stamp(s.current().end), s.src.path)
	}
	return t, err
}

// rotate logs in afresh on the driver's demand (run --rotate-every); the
// driver records the rotation event itself, so none is recorded here.
func (s *session) rotate() (string, error) {
	if !s.src.canLogin() {
		return "", failure("settings", nil, fix.Text{}, "%v with %v %s needs %v or %v: a credential cache cannot log in again",
			fix.Flag("rotate-every"), fix.Flag("auth"), Name, fix.Flag("krb-keytab"), fix.Flag("krb-password-file"))
	}
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	t, err := s.asExchange()
	if err != nil {
		return "", err
	}
	s.install(t, true)
	return fmt.Sprintf("fresh Kerberos login of %s, TGT until %s", s.src.principal, stamp(t.end)), nil
}

// asExchange asks the KDC for a TGT with the keytab's key or the password.
func (s *session) asExchange() (tgt, error) {
	cl := s.src.cl
	req, err := messages.NewASReqForTGT(s.src.realm, cl.Config, cl.Credentials.CName())
	if err != nil {
		return tgt{}, s.explain(err, "")
	}
	rep, err := cl.ASExchange(s.src.realm, req, 0)
	if err != nil {
		return tgt{}, s.explain(err, "")
	}
	return tgtFromReply(rep.Ticket, rep.DecryptedEncPart), nil
}

// renew asks the KDC to renew cur, which keeps the session key's owner but
// extends the end time.
func (s *session) renew(cur tgt) error {
	krbtgt := types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", s.src.realm}}
	_, rep, err := s.src.cl.TGSREQGenerateAndExchange(krbtgt, s.src.realm, cur.ticket, cur.key, true)
	if err != nil {
		return s.explain(err, "")
	}
	t := tgtFromReply(rep.Ticket, rep.DecryptedEncPart)
	s.install(t, false)
	s.event("renewal", t, true)
	return nil
}

// refresh renews the TGT, or logs in afresh when renewal is impossible or
// fails, or when force is set (--krb-relogin-every). Without force it does
// nothing while the TGT is far from expiry (another caller refreshed it).
func (s *session) refresh(force bool) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	cur, now := s.current(), time.Now()
	if !force && now.Before(cur.refreshAt()) {
		return nil
	}
	if !force && cur.canRenew(now) {
		err := s.renew(cur)
		if err == nil || !s.src.canLogin() {
			return err
		}
	}
	return s.login(true)
}

// validTGT returns the TGT and its generation, refreshing it first if it
// is about to expire (the refresher failed or was late).
func (s *session) validTGT() (tgt, int, error) {
	cur, gen := s.currentGen()
	if time.Now().Before(cur.end.Add(-min(cur.life()/10, 10*time.Second))) {
		return cur, gen, nil
	}
	if err := s.refresh(false); err != nil {
		return tgt{}, 0, err
	}
	cur, gen = s.currentGen()
	return cur, gen, nil
}

func (s *session) currentGen() (tgt, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur, s.gen
}

// event records a login or renewal: the principal and the new expiry.
func (s *session) event(kind string, t tgt, rotation bool) {
	if s.events != nil {
		s.events.Event(kind, Name, fmt.Sprintf("%s until %s", s.src.principal, stamp(t.end)), rotation)
	}
}

// close stops the refresher and stops serving connections.
func (s *session) close() {
	if s.stop != nil {
		s.stop()
		<-s.done
	}
	deactivate(s)
}
