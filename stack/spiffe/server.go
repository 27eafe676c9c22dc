package spiffe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/spiffe/spire"
)

// The database server's SVID (`stack up --server-svid`): SPIRE registers
// PostgreSQL as spiffe://<trust domain>/authbench/postgres with the load
// balancer's host name as DNS name, selected by the uid PostgreSQL runs
// as, and the helper (`authbench stack serve-spiffe-helper`, run as that
// user, as SPIRE's spiffe-helper would be) writes each SVID it gets from
// the agent to the files PostgreSQL presents and makes PostgreSQL reload
// them. Clients verify it by SPIFFE ID, or as the load balancer's host
// name against the stack's CA bundle, which then holds SPIRE's bundle.

// HelperName is the server-SVID helper's component name (DIR/spiffe-helper).
const HelperName = "spiffe-helper"

// serverEntryID is the registration entry ID of the server's SVID.
const serverEntryID = "authbench-postgres"

// ServerEntry is the registration entry of the database server: the load
// balancer's host name as DNS name, selected by ServerUID.
func (s *State) ServerEntry() spire.Entry {
	return spire.Entry{
		ID: serverEntryID, SPIFFEID: s.ServerSPIFFEID, DNSNames: []string{stack.LBHost},
		Selectors: []string{"unix:uid:" + strconv.Itoa(s.ServerUID)}, TTL: s.TTL,
	}
}

// serverFiles are the certificate chain and key the helper writes.
func serverFiles(st *stack.State) (crt, key string) {
	dir := st.ComponentDir(HelperName)
	return filepath.Join(dir, "server-svid.crt"), filepath.Join(dir, "server-svid.key")
}

// serverTLS is what PostgreSQL presents with --server-svid.
func (s *State) serverTLS(st *stack.State) *stack.ServerTLS {
	crt, key := serverFiles(st)
	return &stack.ServerTLS{By: HelperName, CertFile: crt, KeyFile: key, CAs: []string{s.BundleFile}}
}

// serverUID is the uid PostgreSQL runs as.
func serverUID(st *stack.State) int {
	if o, err := st.PostgresOwner(); err == nil && o != nil {
		return o.UID
	}
	return os.Getuid()
}

// registerServer creates or updates the server's entry with --server-svid
// and otherwise deletes it and stops the helper.
func (s *State) registerServer(ctx context.Context, st *stack.State, c spire.Config, log io.Writer) error {
	if s.ServerSVID {
		if err := c.SetEntry(ctx, s.ServerEntry()); err != nil {
			return fmt.Errorf("spiffe: register the database server: %w", err)
		}
		return nil
	}
	if err := st.StopServer(HelperName, log); err != nil {
		return err
	}
	return c.DeleteEntry(ctx, serverEntryID)
}

func init() { stack.Register(21, helper{}) }

// helper is the component of the server-SVID helper.
type helper struct{}

// PartOf: `stack up --server-svid` of the spiffe component enables it.
func (helper) PartOf() string { return Name }

func (helper) Name() string                                          { return HelperName }
func (helper) Merge(stack.Config, *stack.State)                      {}
func (helper) Finish(context.Context, *stack.State, io.Writer) error { return nil }
func (helper) Env(*stack.State) []stack.EnvVar                       { return nil }

// Enabled: with `--server-svid`.
func (helper) Enabled(st *stack.State) bool {
	s := Of(st)
	return s != nil && s.ServerSVID
}

// Prepare starts the helper as the user PostgreSQL runs as and waits until
// it wrote the first server SVID, which PostgreSQL, started next, presents.
func (helper) Prepare(ctx context.Context, st *stack.State, log io.Writer) error {
	owner, err := st.PostgresOwner()
	if err != nil {
		return err
	}
	if err := st.StartServerAs(ctx, HelperName, owner, log); err != nil {
		if owner != nil && errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%w: the helper runs as uid %d, PostgreSQL's user, who must be able to run %s: put authbench where that user can reach it", err, owner.UID, st.Exe)
		}
		return err
	}
	return nil
}

// Stop stops the helper.
func (helper) Stop(st *stack.State, log io.Writer) error { return st.StopServer(HelperName, log) }

// Status reports the helper.
func (helper) Status(st *stack.State) []stack.ComponentStatus {
	crt, _ := serverFiles(st)
	return []stack.ComponentStatus{{Name: HelperName, PID: st.PID(HelperName), Address: crt, Running: st.Running(HelperName)}}
}

// Serve runs the helper in the foreground until ctx ends: it follows the
// server's SVID over the Workload API and writes every new one.
func (helper) Serve(ctx context.Context, st *stack.State, stdout io.Writer) error {
	s := Of(st)
	if s == nil || !s.ServerSVID {
		return &stack.StackError{Dir: st.Dir, Component: HelperName, Err: stack.ErrComponentOff}
	}
	w := &svidWriter{st: st, id: s.ServerSPIFFEID, out: stdout, ready: make(chan struct{})}
	return serveWatch(ctx, s.Endpoint(), HelperName, w, w.ready, stdout,
		fmt.Sprintf("spiffe-helper for %s on %s, uid %d, pid %d", s.ServerSPIFFEID, s.Endpoint(), os.Getuid(), os.Getpid()))
}

// svidWriter is the workloadapi.X509ContextWatcher of the helper.
type svidWriter struct {
	st     *stack.State
	id     string
	out    io.Writer
	ready  chan struct{}
	once   sync.Once
	serial string
}

// OnX509ContextUpdate writes the server's SVID when it is new and has
// PostgreSQL reload.
func (w *svidWriter) OnX509ContextUpdate(c *workloadapi.X509Context) {
	svid := findSVID(c.SVIDs, w.id)
	if svid == nil {
		fmt.Fprintf(w.out, "%s spiffe-helper: the agent serves uid %d no SVID for %s (%d others)\n", now(), os.Getuid(), w.id, len(c.SVIDs))
		return
	}
	leaf := svid.Certificates[0]
	if serial := leaf.SerialNumber.Text(16); serial != w.serial {
		if err := w.write(svid); err != nil {
			fmt.Fprintf(w.out, "%s spiffe-helper: %v\n", now(), err)
			return
		}
		w.serial = serial
		fmt.Fprintf(w.out, "%s spiffe-helper: server SVID serial=%s expires %s written; PostgreSQL reloads it\n",
			now(), serial, leaf.NotAfter.UTC().Format("15:04:05"))
	}
	w.once.Do(func() { close(w.ready) })
}

// findSVID returns the SVID for id among svids, nil if none.
func findSVID(svids []*x509svid.SVID, id string) *x509svid.SVID {
	for _, s := range svids {
		if s.ID.String() == id {
			return s
		}
	}
	return nil
}

// write writes the chain and key (0600: PostgreSQL refuses a key others
// can read) and signals a running PostgreSQL to load them.
func (w *svidWriter) write(svid *x509svid.SVID) error {
	certs, key, err := svid.Marshal()
	if err != nil {
		return fmt.Errorf("encode the server SVID: %w", err)
	}
	crt, keyPath := serverFiles(w.st)
	// The key first: PostgreSQL must never pair a new chain with the old key.
	if err := stack.WriteFileAtomic(keyPath, key, 0o600, nil); err != nil {
		return err
	}
	if err := stack.WriteFileAtomic(crt, certs, 0o644, nil); err != nil {
		return err
	}
	return w.st.SignalPostgresReload()
}

// OnX509ContextWatchError logs a broken stream; go-spiffe retries.
func (w *svidWriter) OnX509ContextWatchError(err error) {
	fmt.Fprintf(w.out, "%s spiffe-helper: Workload API: %v (retrying)\n", now(), err)
}
