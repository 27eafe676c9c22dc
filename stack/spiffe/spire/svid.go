package spire

import (
	"context"
	"fmt"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// SVIDTimeout bounds WaitSVID: an entry reaches the agent at its next sync
// (SyncInterval), but a busy machine must not fail the wait.
const SVIDTimeout = 60 * time.Second

// WaitSVID waits until the agent serves this process an X509-SVID for
// spiffeID (an entry created a moment ago reaches the agent at its next
// sync) and returns it.
func (c Config) WaitSVID(ctx context.Context, spiffeID string) (*x509svid.SVID, error) {
	ctx, cancel := context.WithTimeout(ctx, SVIDTimeout)
	defer cancel()
	var last error
	for {
		svid, err := c.Fetch(ctx, spiffeID)
		if err == nil {
			return svid, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the SPIRE agent at %s served no SVID for %s within %s (see %s): %w",
				c.Endpoint(), spiffeID, SVIDTimeout, c.LogFile(AgentProc), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Fetch asks the Workload API once for this process's SVIDs and returns
// the one for spiffeID.
func (c Config) Fetch(ctx context.Context, spiffeID string) (*x509svid.SVID, error) {
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	x, err := workloadapi.FetchX509Context(fctx, workloadapi.WithAddr(c.Endpoint()))
	if err != nil {
		return nil, err
	}
	for _, s := range x.SVIDs {
		if s.ID.String() == spiffeID {
			return s, nil
		}
	}
	return nil, fmt.Errorf("no SVID for %s among the %d served", spiffeID, len(x.SVIDs))
}
