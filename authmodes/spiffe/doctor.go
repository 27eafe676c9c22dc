package spiffe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authbench/authbench/doctor"
	"github.com/authbench/authbench/fix"
)

var _ doctor.Diagnoser = (*mode)(nil)

// Diagnose checks, in order: the Workload API socket exists and answers,
// an SVID is issued to this process and valid, its CN is the SQL user, and
// the server accepts certificates from its issuer. The SVID's key is
// never shown.
func (m *mode) Diagnose(ctx context.Context, cfg *pgxpool.Config, env doctor.Env) []doctor.Check {
	m.user = cfg.ConnConfig.User
	var seq doctor.Sequence
	var svid *x509svid.SVID
	var fetchErr error
	seq.Run("spiffe-socket", func() doctor.Check {
		addr, err := address(m.socket)
		if err != nil {
			return socketFailure(err)
		}
		m.addr = addr
		svid, fetchErr = m.fetchOnce(ctx, addr)
		if c, failed := m.answerCheck(addr, fetchErr); failed {
			return c
		}
		return doctor.Pass("", "the Workload API at %s answers", addr)
	})
	if !seq.Run("svid", func() doctor.Check { return m.svidCheck(svid, fetchErr, time.Now()) }) {
		seq.SkipRest("svid-user", "svid-issuer")
		if m.serverID != "" {
			seq.SkipRest("server-svid")
		}
		return seq.Checks
	}
	seq.Add(userCheck(cfg, svid).As("svid-user"))
	seq.Add(doctor.CheckIssuer(svid.Certificates[0], env.ClientCAs, "SVID").As("svid-issuer"))
	if m.serverID != "" {
		seq.Add(m.serverCheck(ctx, cfg, svid).As("server-svid"))
	}
	return seq.Checks
}

// socketFailure reports address's error as the socket step.
func socketFailure(err error) doctor.Check { return doctor.FromErr("", err) }

// fetchOnce asks the Workload API for this process's SVIDs, waiting at
// most --spiffe-timeout, closes the client again and returns the SVID the
// mode would use (the SQL user's, see pickFor).
func (m *mode) fetchOnce(ctx context.Context, addr string) (*x509svid.SVID, error) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	client, err := workloadapi.New(ctx, workloadapi.WithAddr(addr))
	if err != nil {
		return nil, err
	}
	defer client.Close()
	svids, err := client.FetchX509SVIDs(ctx)
	if err != nil {
		return nil, err
	}
	if len(svids) == 0 {
		return nil, status.Error(codes.PermissionDenied, "no identity issued")
	}
	return pickFor(m.user)(svids), nil
}

// answerCheck fails the socket step when the Workload API did not answer;
// a refusal to issue an SVID is an answer (the svid step reports it).
func (m *mode) answerCheck(addr string, err error) (doctor.Check, bool) {
	switch code := status.Code(err); {
	case err == nil, code == codes.PermissionDenied, code == codes.InvalidArgument, code == codes.Unimplemented:
		return doctor.Check{}, false
	case code == codes.Unavailable, code == codes.DeadlineExceeded, errors.Is(err, context.DeadlineExceeded):
		return doctor.Fail("", fix.Textf("the Workload API at %s does not answer (%s)", addr, oneLine(status.Convert(err).Message())), agentFix()), true
	}
	return doctor.Check{}, false
}

// svidCheck reports the SVID issued to this process and its validity.
func (m *mode) svidCheck(svid *x509svid.SVID, err error, now time.Time) doctor.Check {
	if err != nil {
		return m.fetchFailure(err)
	}
	leaf := svid.Certificates[0]
	desc := fmt.Sprintf("SVID %s (serial %s, CN=%s)", svid.ID, serialOf(svid), leaf.Subject.CommonName)
	switch {
	case now.After(leaf.NotAfter):
		return doctor.Fail("", fix.Textf("%s expired at %s", desc, doctor.When(leaf.NotAfter, now)),
			fix.Textf("the Workload API should have sent a new one: check the SPIRE agent and server (or `%v`)", fix.Command("stack up")))
	case now.Before(leaf.NotBefore):
		return doctor.Fail("", fix.Textf("%s is not valid before %s", desc, doctor.When(leaf.NotBefore, now)),
			fix.Textf("check the clocks of this machine and the SPIRE server"))
	}
	return doctor.Pass("", "%s issued to this process, expires %s", desc, doctor.When(leaf.NotAfter, now))
}

// fetchFailure explains why the Workload API issued no SVID.
func (m *mode) fetchFailure(err error) doctor.Check {
	st := status.Convert(err)
	switch st.Code() {
	case codes.PermissionDenied:
		return doctor.Fail("", fix.Textf("the Workload API at %s issued no SVID to this process (%s): %s", m.socket, selectorText(), st.Message()), m.registerFix())
	case codes.InvalidArgument, codes.Unimplemented:
		return doctor.Fail("", fix.Textf("the Workload API at %s refused the request: %s", m.socket, st.Message()),
			fix.Textf("point %v at a SPIRE agent's Workload API socket", fix.Flag("spiffe-socket")))
	}
	return doctor.Fail("", fix.Textf("no SVID from the Workload API at %s: %s", m.socket, oneLine(st.Message())),
		fix.Textf("check the SPIRE agent, or raise %v", fix.Flag("spiffe-timeout")))
}

// userCheck checks the SVID's CN is the SQL user.
func userCheck(cfg *pgxpool.Config, svid *x509svid.SVID) doctor.Check {
	if err := checkUser(cfg, svid); err != nil {
		return doctor.FromErr("", err)
	}
	return doctor.Pass("", "CN %s is the SQL user", svid.Certificates[0].Subject.CommonName)
}
