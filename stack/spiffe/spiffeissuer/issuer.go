package spiffeissuer

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Issuer mints X509-SVIDs for its registration entries and serves them over
// the SPIFFE Workload API. Its methods are safe for concurrent use.
type Issuer struct {
	cfg Config
	td  spiffeid.TrustDomain
	ids []spiffeid.ID // SPIFFE ID of cfg.Entries[k]
	ca  *authority
	log io.Writer

	mu  sync.Mutex
	gen *generation
}

// generation is one immutable set of SVIDs, one per entry. changed is closed
// when a newer generation replaces it, which wakes every stream.
type generation struct {
	svids   []*svid
	minted  time.Time
	changed chan struct{}
}

// New loads the CA from cfg.Dir (creating it on first use), writes
// Dir/bundle.pem and mints the first SVIDs.
func New(cfg Config) (*Issuer, error) {
	cfg = cfg.withDefaults()
	td, ids, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	ca, err := loadOrCreateCA(cfg.Dir, td)
	if err != nil {
		return nil, err
	}
	if err := writeBundle(cfg.Dir, ca.cert); err != nil {
		return nil, err
	}
	i := &Issuer{cfg: cfg, td: td, ids: ids, ca: ca, log: io.Discard}
	if err := i.rotate(); err != nil {
		return nil, err
	}
	return i, nil
}

// Run creates an Issuer from cfg, logs one startup line to log once the
// socket is listening, and serves until ctx is done.
func Run(ctx context.Context, cfg Config, log io.Writer) error {
	i, err := New(cfg)
	if err != nil {
		return err
	}
	if log != nil {
		i.log = log
	}
	lis, err := listen(i.cfg.SocketPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(i.log, "spiffe workload api listening on unix://%s trust domain %s svid ttl %s bundle %s\n",
		i.cfg.SocketPath, i.td, i.cfg.TTL, i.BundlePath())
	return i.serve(ctx, lis)
}

// BundlePath is the PEM file holding the trust domain's CA certificate, for
// the database's ssl_ca_file.
func (i *Issuer) BundlePath() string {
	return filepath.Join(i.cfg.Dir, bundleFile)
}

// Current returns the X509-SVID currently served for spiffeID.
func (i *Issuer) Current(spiffeID string) (*x509.Certificate, bool) {
	g := i.current()
	for _, s := range g.svids {
		if s.id.String() == spiffeID {
			return s.cert, true
		}
	}
	return nil, false
}

// Rotate mints new SVIDs for every entry now and pushes them to every open
// FetchX509SVID stream; the next scheduled rotation is TTL/2 from now. On
// failure the current SVIDs stay in service and the error is logged.
func (i *Issuer) Rotate() {
	if err := i.rotate(); err != nil {
		fmt.Fprintf(i.log, "spiffe workload api: rotate: %v\n", err)
	}
}

// rotate mints a new generation and publishes it.
func (i *Issuer) rotate() error {
	now := time.Now()
	svids := make([]*svid, len(i.cfg.Entries))
	for k, e := range i.cfg.Entries {
		s, err := i.ca.mint(i.ids[k], e.DNSNames, now, i.cfg.TTL)
		if err != nil {
			return fmt.Errorf("mint %s: %w", i.ids[k], err)
		}
		svids[k] = s
	}
	i.publish(&generation{svids: svids, minted: now, changed: make(chan struct{})})
	return nil
}

// publish makes g current and wakes everyone waiting on the old generation.
func (i *Issuer) publish(g *generation) {
	i.mu.Lock()
	old := i.gen
	i.gen = g
	i.mu.Unlock()
	if old != nil {
		close(old.changed)
	}
}

// current returns the current generation.
func (i *Issuer) current() *generation {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.gen
}

// rotateLoop rotates at TTL/2 after each generation was minted until ctx is
// done; a forced Rotate restarts the countdown.
func (i *Issuer) rotateLoop(ctx context.Context) {
	for {
		g := i.current()
		timer := time.NewTimer(time.Until(g.minted.Add(i.cfg.TTL / 2)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-g.changed:
			timer.Stop()
		case <-timer.C:
			if err := i.rotate(); err != nil {
				fmt.Fprintf(i.log, "spiffe workload api: rotate: %v\n", err)
				sleep(ctx, rotateRetry)
			}
		}
	}
}

// rotateRetry is how long rotateLoop waits after a failed rotation.
const rotateRetry = time.Second

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// svidsFor returns the SVIDs of g that entries select for uid, in entry order.
func (i *Issuer) svidsFor(g *generation, uid int) []*svid {
	var out []*svid
	for k, e := range i.cfg.Entries {
		if e.UID == AnyUID || e.UID == uid {
			out = append(out, g.svids[k])
		}
	}
	return out
}
