package gssapi

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/authbench/authbench/doctor"
	"github.com/authbench/authbench/fix"
)

var _ doctor.Diagnoser = (*mode)(nil)

// probeTimeout bounds each attempt to reach a KDC.
const probeTimeout = 3 * time.Second

// wellKnownServices are service names a database server's keytab commonly
// holds: libpq's default and the reference deployment's custom SPN. When
// the SPN asked for is unknown, doctor asks the KDC which of these it
// knows for the host.
var wellKnownServices = []string{defaultSrvName, "postgresql", "customspn"}

// diag is one run of the mode's checks.
type diag struct {
	m    *mode
	cc   *pgx.ConnConfig
	conf *krbConf
	src  *source
	sess *session
	kdc  time.Time // a KDC timestamp and when it was received, for the clock
	recv time.Time
}

// Diagnose checks, in order: the Kerberos profile, the KDC, the credential
// source, a TGT, the service ticket for the server's SPN and the clock
// skew. No password or key is shown.
func (m *mode) Diagnose(ctx context.Context, cfg *pgxpool.Config, env doctor.Env) []doctor.Check {
	d := &diag{m: m, cc: cfg.ConnConfig}
	var seq doctor.Sequence
	if !seq.Run("krb5.conf", d.checkConf) {
		seq.SkipRest("kdc", "krb-credentials", "tgt", "spn", "clock")
		return seq.Checks
	}
	src, srcErr := m.newSource(d.cc.User)
	seq.Add(d.checkKDC(src))
	seq.Add(d.checkSource(src, srcErr))
	d.src = src
	seq.Run("tgt", d.checkTGT)
	seq.Run("spn", d.checkSPN)
	seq.Add(d.checkClock())
	return seq.Checks
}

// checkConf loads the Kerberos profile and names its realms' KDCs.
func (d *diag) checkConf() doctor.Check {
	conf, err := loadConf(d.m.krb5Conf)
	if err != nil {
		return doctor.FromErr("krb5.conf", err)
	}
	d.conf = conf
	var realms []string
	for _, r := range conf.realms() {
		realms = append(realms, r+" at "+conf.kdcs(r))
	}
	return doctor.Pass("krb5.conf", "%s (%v) parsed: default realm %s, KDCs of %s", conf.path, d.confSource(),
		orNone([]string{conf.cfg.LibDefaults.DefaultRealm}), orNone(realms))
}

// confSource says where the profile's path came from.
func (d *diag) confSource() fix.Text {
	switch {
	case d.m.fs != nil && d.m.fs.Changed("krb5-conf"):
		return fix.Textf("%v", fix.Flag("krb5-conf"))
	case os.Getenv("KRB5_CONFIG") != "":
		return fix.Textf("$KRB5_CONFIG")
	}
	return fix.Textf("the default")
}

// checkSource reports the credential source newSource built.
func (d *diag) checkSource(src *source, err error) doctor.Check {
	if err != nil {
		return doctor.FromErr("krb-credentials", err)
	}
	switch src.kind {
	case srcKeytab:
		return doctor.Pass("krb-credentials", "keytab %s has keys for %s", src.path, src.principal)
	case srcPassword:
		return doctor.Pass("krb-credentials", "password file %s of %s is readable and not empty (not shown)", src.path, src.principal)
	}
	return doctor.Pass("krb-credentials", "credential cache %s holds tickets of %s", src.path, src.principal)
}

// checkTGT logs in (or reads the credential cache) as the mode would.
func (d *diag) checkTGT() doctor.Check {
	s := newSession(d.src, nil, io.Discard)
	if err := s.login(false); err != nil {
		return doctor.FromErr("tgt", err)
	}
	d.sess = s
	t := s.current()
	if d.src.kind != srcCCache && d.kdc.IsZero() {
		d.kdc, d.recv = t.start, time.Now() // the KDC's time when it issued the TGT
	}
	renew := "not renewable"
	if t.renewable {
		renew = "renewable until " + stamp(t.renewTill)
	}
	return doctor.Pass("tgt", "TGT of %s from the %s, valid until %s (%s)", d.src.principal, d.src.kind,
		doctor.When(t.end, time.Now()), renew)
}

// checkSPN asks the KDC for a service ticket for the server's SPN.
func (d *diag) checkSPN() doctor.Check {
	d.m.applySPN(d.cc)
	spn := spnFor(d.cc, d.sess.canonicalHost)
	full := d.sess.fullSPN(spn)
	rep, err := d.tgs(spn)
	if err != nil {
		if krbCode(oneLine(err.Error())) == errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN {
			return d.unknownSPN(full)
		}
		return doctor.FromErr("spn", d.sess.explain(err, full))
	}
	if st := rep.DecryptedEncPart.StartTime; d.kdc.IsZero() && !st.IsZero() {
		d.kdc, d.recv = st, time.Now() // the KDC's time when it issued the ticket
	}
	return doctor.Pass("spn", "the KDC issued a service ticket for %s (valid until %s)", full, stamp(rep.DecryptedEncPart.EndTime))
}

// tgs requests a service ticket for spn with the session's TGT.
func (d *diag) tgs(spn string) (messages.TGSRep, error) {
	name, realm, err := d.sess.splitSPN(spn)
	if err != nil {
		return messages.TGSRep{}, err
	}
	cur := d.sess.current()
	_, rep, err := d.sess.src.cl.TGSREQGenerateAndExchange(name, realm, cur.ticket, cur.key, false)
	return rep, err
}

// unknownSPN explains a service principal the KDC does not have, naming
// the well-known ones it does have for the host.
func (d *diag) unknownSPN(full string) doctor.Check {
	flag := fix.Flag("krbsrvname")
	if d.cc.KerberosSpn != "" {
		flag = fix.Flag("krbspn")
	}
	host := d.sess.canonicalHost(d.cc.Host)
	var known []string
	for _, svc := range wellKnownServices {
		spn := svc + "/" + host
		if !strings.HasPrefix(full, spn+"@") {
			if _, err := d.tgs(spn); err == nil {
				known = append(known, spn)
			}
		}
	}
	hint := "the server's keytab has the principal it accepts: `klist -k` on its krb_server_keyfile lists them"
	if len(known) > 0 {
		hint = "the server's keytab has the name to use; the KDC knows " + strings.Join(known, " and ")
	}
	return doctor.Fail("spn", fix.Textf("service principal %s is not known to the KDC", full),
		fix.Textf("check %v (%s) or ask your KDC admin to add it", flag, hint))
}

// checkClock compares this machine's clock with the KDC's last timestamp.
func (d *diag) checkClock() doctor.Check {
	if d.kdc.IsZero() {
		return doctor.Skip("clock", "no timestamp from the KDC to compare with (needs steps kdc, tgt and spn)")
	}
	skew := d.recv.Sub(d.kdc).Round(time.Second)
	allowed := d.conf.cfg.LibDefaults.Clockskew
	dir := "ahead of"
	if skew < 0 {
		skew, dir = -skew, "behind"
	}
	if skew > allowed {
		return doctor.Fail("clock", fix.Textf("this machine's clock is %s %s the KDC's (Kerberos allows %s)", skew, dir, allowed),
			fix.Textf("synchronise the clocks of this machine and the KDC (NTP)"))
	}
	return doctor.Pass("clock", "this machine's clock is within %s of the KDC's (Kerberos allows %s)", max(skew, time.Second), allowed)
}

// checkKDC sends an AS request to each KDC of the realm until one answers
// with any Kerberos message; a KRB-ERROR's timestamp is kept for the clock.
func (d *diag) checkKDC(src *source) doctor.Check {
	realm, cname := d.probeName(src)
	if realm == "" {
		return doctor.Fail("kdc", fix.Textf("no realm to find a KDC for: %s sets no default_realm", d.conf.path), fix.Textf("pass %v name@REALM", fix.Flag("krb-principal")))
	}
	_, kdcs, err := d.conf.cfg.GetKDCs(realm, true)
	if err != nil || len(kdcs) == 0 {
		return doctor.Fail("kdc", fix.Textf("%s names no KDC for realm %s", d.conf.path, realm),
			fix.Textf("add the realm's kdc = host:port to [realms] of the profile, or fix the realm in %v", fix.Flag("krb-principal")))
	}
	req, err := messages.NewASReqForTGT(realm, d.conf.cfg, cname)
	if err != nil {
		return doctor.FromErr("kdc", err)
	}
	b, err := req.Marshal()
	if err != nil {
		return doctor.FromErr("kdc", err)
	}
	var errs []string
	for _, i := range sortedKeys(kdcs) {
		proto, reply, err := probeKDC(kdcs[i], b)
		if err == nil {
			d.noteTime(reply)
			return doctor.Pass("kdc", "the KDC of realm %s at %s answers (%s; from %s)", realm, kdcs[i], proto, d.conf.path)
		}
		errs = append(errs, kdcs[i]+": "+err.Error())
	}
	return doctor.Fail("kdc", fix.Textf("cannot reach the KDC of realm %s at %s (from %s): %s", realm, d.conf.kdcs(realm), d.conf.path, strings.Join(errs, "; ")),
		fix.Textf("is it running? start it (`%v` starts the stack's KDC), or fix the realm's kdc lines in %s", fix.Command("stack up"), d.conf.path))
}

// probeName returns the realm and client name of the probe request.
func (d *diag) probeName(src *source) (string, types.PrincipalName) {
	if src != nil {
		name, _, _ := strings.Cut(src.principal, "@")
		return src.realm, types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, name)
	}
	name, realm, err := splitPrincipal(d.conf, firstNonEmpty(d.m.principal, d.cc.User))
	if err != nil {
		return d.conf.cfg.LibDefaults.DefaultRealm, types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "authbench-doctor")
	}
	return realm, types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, name)
}

// noteTime keeps the KDC's timestamp from a KRB-ERROR reply.
func (d *diag) noteTime(reply []byte) {
	var ke messages.KRBError
	if ke.Unmarshal(reply) == nil && !ke.STime.IsZero() {
		d.kdc, d.recv = ke.STime, time.Now()
	}
}

func sortedKeys(m map[int]string) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// probeKDC sends b to addr over TCP, else over UDP, and returns the
// protocol that worked and the reply, which must be a Kerberos message.
func probeKDC(addr string, b []byte) (string, []byte, error) {
	reply, tcpErr := probeTCP(addr, b)
	if tcpErr == nil {
		return "tcp", reply, nil
	}
	reply, udpErr := probeUDP(addr, b)
	if udpErr == nil {
		return "udp", reply, nil
	}
	return "", nil, fmt.Errorf("tcp: %s, udp: %s", doctor.RootCause(tcpErr), doctor.RootCause(udpErr))
}

// probeTCP sends one length-prefixed message (RFC 4120 7.2.2).
func probeTCP(addr string, b []byte) ([]byte, error) {
	conn, err := net.DialTimeout("tcp", addr, probeTimeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(probeTimeout))
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	if _, err := conn.Write(append(msg, b...)); err != nil {
		return nil, err
	}
	var n [4]byte
	if _, err := io.ReadFull(conn, n[:]); err != nil {
		return nil, err
	}
	reply := make([]byte, min(binary.BigEndian.Uint32(n[:]), 1<<20))
	if _, err := io.ReadFull(conn, reply); err != nil {
		return nil, err
	}
	return reply, kerberosReply(reply)
}

// probeUDP sends one datagram and waits for the answer.
func probeUDP(addr string, b []byte) ([]byte, error) {
	conn, err := net.DialTimeout("udp", addr, probeTimeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(probeTimeout))
	if _, err := conn.Write(b); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	n, err := conn.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], kerberosReply(buf[:n])
}

// kerberosReply fails unless b is a KRB-ERROR or an AS-REP.
func kerberosReply(b []byte) error {
	var ke messages.KRBError
	if ke.Unmarshal(b) == nil {
		return nil
	}
	var rep messages.ASRep
	if rep.Unmarshal(b) == nil {
		return nil
	}
	return fmt.Errorf("the answer is not a Kerberos message: is this a KDC?")
}
