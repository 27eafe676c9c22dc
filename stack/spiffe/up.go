package spiffe

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/spiffe/spire"
)

// Prepare starts the SPIRE server, registers the client, starts the agent,
// writes SPIRE's trust bundle (which PostgreSQL's ssl_ca_file is built
// from) and waits until the agent serves the client its SVID.
func (component) Prepare(ctx context.Context, st *stack.State, log io.Writer) error {
	s := Of(st)
	if err := s.validate(); err != nil {
		return err
	}
	c, err := s.SPIRE()
	if err != nil {
		return err
	}
	// World-traversable like a SPIRE agent's socket directory: attestation,
	// not file modes, decides who gets an SVID. Keys inside stay 0600.
	if err := stack.MkdirTraversable(s.Dir); err != nil {
		return err
	}
	if s.reset {
		if err := s.resetData(st, c, log); err != nil {
			return err
		}
	}
	if err := c.StartServer(ctx, log); err != nil {
		return err
	}
	if err := c.SetEntry(ctx, s.ClientEntry()); err != nil {
		return fmt.Errorf("spiffe: register the client: %w", err)
	}
	if err := s.registerServer(ctx, st, c, log); err != nil {
		return err
	}
	if err := c.StartAgent(ctx, log); err != nil {
		return err
	}
	if _, err := c.WaitSVID(ctx, s.SPIFFEID); err != nil {
		return err
	}
	if err := s.writeBundle(ctx); err != nil {
		return err
	}
	fmt.Fprintf(log, "spiffe: SPIRE %s, workload api on %s, trust domain %s, svid ttl %s, user %s\n",
		c.Bins.Version, s.Endpoint(), s.TrustDomain, s.TTL, s.User)
	return nil
}

// resetData stops SPIRE and removes its data, which belongs to another
// trust domain.
func (s *State) resetData(st *stack.State, c spire.Config, log io.Writer) error {
	fmt.Fprintf(log, "spiffe: trust domain changed to %s, starting SPIRE afresh\n", s.TrustDomain)
	for _, name := range []string{HelperName, Name} {
		if err := st.StopServer(name, log); err != nil {
			return err
		}
	}
	if err := c.Stop(spire.AgentProc, log); err != nil {
		return err
	}
	if err := c.Stop(spire.ServerProc, log); err != nil {
		return err
	}
	for _, d := range []string{"server", "agent"} {
		if err := os.RemoveAll(filepath.Join(s.Dir, d)); err != nil {
			return fmt.Errorf("spiffe: %w", err)
		}
	}
	return nil
}

// writeBundle writes the trust bundle the agent serves to BundleFile, as
// the bundle watcher does.
func (s *State) writeBundle(ctx context.Context) error {
	td, err := spiffeid.TrustDomainFromString(s.TrustDomain)
	if err != nil {
		return err
	}
	fctx, cancel := context.WithTimeout(ctx, spire.SVIDTimeout)
	defer cancel()
	x, err := workloadapi.FetchX509Context(fctx, workloadapi.WithAddr(s.Endpoint()))
	if err != nil {
		return fmt.Errorf("spiffe: read SPIRE's trust bundle from %s: %w", s.Endpoint(), err)
	}
	b, ok := x.Bundles.Get(td)
	if !ok {
		return fmt.Errorf("spiffe: the agent at %s serves no bundle for %s", s.Endpoint(), td)
	}
	return stack.WriteFileAtomic(s.BundleFile, bundlePEM(b), 0o644, nil)
}

// Finish starts the bundle watcher (`stack serve-spiffe`), which needs
// PostgreSQL.
func (component) Finish(ctx context.Context, st *stack.State, log io.Writer) error {
	return st.StartServer(ctx, Name, log)
}

// RotatesMode: SPIRE rotates the spiffe mode's SVIDs.
func (component) RotatesMode(mode string) bool { return mode == "spiffe" }

// Rotate forces a new SVID for user: it updates the client's registration
// entry, which gives it a new revision, so the agent issues a new SVID at
// its next sync (within spire.SyncInterval or so).
func (component) Rotate(ctx context.Context, st *stack.State, user string) (string, error) {
	s := Of(st)
	if user != s.User {
		return "", fmt.Errorf("the stack's SPIRE has no registration entry for SQL user %q (it registers %s)", user, s.User)
	}
	c, err := s.SPIRE()
	if err != nil {
		return "", err
	}
	if err := c.UpdateEntry(ctx, s.ClientEntry()); err != nil {
		return "", err
	}
	return fmt.Sprintf("registration entry %s updated: the SPIRE agent issues a new SVID at its next sync", s.ClientEntryID()), nil
}
