package spiffe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authbench/authbench/fix"
)

// address turns --spiffe-socket into a Workload API address and, for a
// unix socket, checks that the socket is there.
func address(socket string) (string, error) {
	if socket == "" {
		return "", &fix.Error{Step: "spiffe-socket", What: fix.Textf("no SPIFFE Workload API socket"), Credential: true,
			Fix: fix.Textf("pass %v unix:///path/to/agent.sock or set SPIFFE_ENDPOINT_SOCKET (`eval \"$(%v)\"` sets it)", fix.Flag("spiffe-socket"), fix.Command("stack env"))}
	}
	if strings.HasPrefix(socket, "/") {
		socket = "unix://" + socket
	}
	if err := workloadapi.ValidateAddress(socket); err != nil {
		return "", &fix.Error{Step: "spiffe-socket", What: fix.Textf("%v %q: %v", fix.Flag("spiffe-socket"), socket, err), Err: err,
			Fix: fix.Textf("use unix:///path/to/agent.sock")}
	}
	u, err := url.Parse(socket)
	if err != nil || u.Scheme != "unix" {
		return socket, nil
	}
	fi, err := os.Stat(u.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", &fix.Error{Step: "spiffe-socket", What: fix.Textf("no SPIFFE Workload API socket at %s", u.Path), Err: err, Credential: true,
			Fix: fix.Textf("start the SPIRE agent (or `%v`), or point %v / SPIFFE_ENDPOINT_SOCKET at its socket", fix.Command("stack up"), fix.Flag("spiffe-socket"))}
	case err != nil:
		return "", &fix.Error{Step: "spiffe-socket", What: fix.Textf("SPIFFE Workload API socket %s: %v", u.Path, unwrapPath(err)), Err: err, Credential: true,
			Fix: fix.Textf("check %v", fix.Flag("spiffe-socket"))}
	case fi.Mode()&fs.ModeSocket == 0:
		return "", &fix.Error{Step: "spiffe-socket", What: fix.Textf("%s is not a socket", u.Path), Credential: true,
			Fix: fix.Textf("point %v at the SPIRE agent's socket", fix.Flag("spiffe-socket"))}
	}
	return socket, nil
}

// unwrapPath drops the path an *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openSource opens the X509Source and waits for the first SVID, at most
// --spiffe-timeout. A caller the Workload API has no identity for fails at
// once instead of waiting for the timeout.
func (m *mode) openSource(ctx context.Context, user string) (*workloadapi.X509Source, error) {
	log := &clientLog{denied: make(chan struct{}), report: m.streamError}
	wctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	go func() {
		select {
		case <-log.denied:
			cancel()
		case <-wctx.Done():
		}
	}()
	src, err := workloadapi.NewX509Source(wctx, workloadapi.WithClientOptions(
		workloadapi.WithAddr(m.addr), workloadapi.WithLogger(log)),
		workloadapi.WithDefaultX509SVIDPicker(pickFor(user)))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, m.startError(err, log.lastError())
	}
	log.started()
	return src, nil
}

// pickFor picks, among the SVIDs the Workload API serves this process,
// the one whose CN is the SQL user (a process may be registered for
// several), else the first, as go-spiffe does.
func pickFor(user string) func([]*x509svid.SVID) *x509svid.SVID {
	return func(svids []*x509svid.SVID) *x509svid.SVID {
		for _, s := range svids {
			if user != "" && s.Certificates[0].Subject.CommonName == user {
				return s
			}
		}
		return svids[0]
	}
}

// startError explains why no first SVID came.
func (m *mode) startError(err, last error) error {
	if last == nil {
		last = err
	}
	st := status.Convert(last)
	switch st.Code() {
	case codes.PermissionDenied:
		return &fix.Error{Step: "svid", What: fix.Textf("the SPIFFE Workload API at %s issued no SVID to this process (%s): %s", m.addr, selectorText(), st.Message()), Err: last, Credential: true,
			Fix: m.registerFix()}
	case codes.InvalidArgument, codes.Unimplemented:
		return &fix.Error{Step: "svid", What: fix.Textf("the SPIFFE Workload API at %s refused the request: %s", m.addr, st.Message()), Err: last, Credential: true,
			Fix: fix.Textf("point %v at a SPIRE agent's Workload API socket", fix.Flag("spiffe-socket"))}
	case codes.Unavailable:
		return &fix.Error{Step: "spiffe-socket", What: fix.Textf("the SPIFFE Workload API at %s did not answer within %s (%s)", m.addr, m.timeout, st.Message()), Err: last, Credential: true,
			Fix: agentFix()}
	}
	return &fix.Error{Step: "svid", What: fix.Textf("no SVID from the SPIFFE Workload API at %s within %s (%s)", m.addr, m.timeout, oneLine(st.Message())), Err: last, Credential: true,
		Fix: fix.Textf("check the agent, or raise %v", fix.Flag("spiffe-timeout"))}
}

// agentFix is the fix when the Workload API does not answer.
func agentFix() fix.Text {
	return fix.Textf("is the SPIRE agent (or `%v`) running?", fix.Command("stack up"))
}

// clientLog is the go-spiffe client's logger. Before the first SVID it
// keeps the last error (to explain a failed start) and signals a refusal;
// afterwards it hands errors to report.
type clientLog struct {
	mu       sync.Mutex
	last     error
	running  bool
	denied   chan struct{}
	deniedOK sync.Once
	report   func(error)
}

// Debugf ignores debug messages.
func (l *clientLog) Debugf(string, ...any) {}

// Infof ignores informational messages.
func (l *clientLog) Infof(string, ...any) {}

// Warnf ignores warnings.
func (l *clientLog) Warnf(string, ...any) {}

// Errorf records a Workload API error.
func (l *clientLog) Errorf(format string, args ...any) {
	err := errorArg(args)
	if err == nil {
		err = fmt.Errorf(format, args...)
	}
	l.mu.Lock()
	l.last = err
	running := l.running
	l.mu.Unlock()
	switch {
	case running:
		l.report(err)
	case status.Code(err) == codes.PermissionDenied:
		l.deniedOK.Do(func() { close(l.denied) })
	}
}

// started switches the log to reporting errors as they come.
func (l *clientLog) started() {
	l.mu.Lock()
	l.running = true
	l.mu.Unlock()
}

func (l *clientLog) lastError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// errorArg returns the first error among args.
func errorArg(args []any) error {
	for _, a := range args {
		if err, ok := a.(error); ok {
			return err
		}
	}
	return nil
}

// oneLine folds s onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// streamError reports, once per outage, that the Workload API stream broke;
// go-spiffe keeps retrying with a growing pause.
func (m *mode) streamError(err error) {
	m.mu.Lock()
	first := !m.streamLost
	m.streamLost = true
	expires := m.notAfter.UTC().Format(time.RFC3339)
	m.mu.Unlock()
	if !first {
		return
	}
	if status.Code(err) == codes.PermissionDenied {
		m.event("watch-error", fmt.Sprintf("the Workload API at %s issues no SVID to this process any more (%s: %s; %s): was its registration entry deleted? retrying; the SVID in use expires at %s",
			m.addr, status.Code(err), oneLine(status.Convert(err).Message()), selectorText(), expires), false)
		return
	}
	m.event("watch-error", fmt.Sprintf("lost the Workload API stream at %s (%s: %s); retrying; the SVID in use expires at %s",
		m.addr, status.Code(err), oneLine(status.Convert(err).Message()), expires), false)
}
