package vaultsrv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// shutdownTimeout bounds the HTTP shutdown and the final revocation of
// every lease when Serve's context ends.
const shutdownTimeout = 10 * time.Second

// Server is the credential server. Its zero value is not usable; build one
// with New. It is safe for concurrent use.
type Server struct {
	cfg       Config
	now       func() time.Time
	clusterID string
	sealed    atomic.Bool

	mu      sync.Mutex
	tokens  map[string]*token
	leases  map[string]*lease
	statics map[string]*staticState
}

// New validates cfg, fills in Vault's defaults and returns a Server that
// knows the root token. Nothing touches the database until Serve.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		now:       time.Now,
		clusterID: NewUUID(),
		tokens:    make(map[string]*token),
		leases:    make(map[string]*lease),
		statics:   make(map[string]*staticState),
	}
	s.tokens[cfg.RootToken] = newRootToken(cfg.RootToken, s.now())
	return s, nil
}

// Handler returns the HTTP handler for the /v1/ API, for callers that run
// their own listener. Without Serve nothing expires and static roles have
// no password.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Serve sets every static role's first password (Vault rotates a static
// role when it is created), then answers HTTP on ln until ctx is done while
// a reaper revokes expired leases, expires tokens and rotates static
// passwords. When ctx ends it shuts the listener down and revokes every
// lease still open, so no database role outlives the server. It returns nil
// after a clean stop.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.rotateAllStatic(ctx); err != nil {
		_ = ln.Close()
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	reaperDone := make(chan struct{})
	go func() { defer close(reaperDone); s.reap(ctx) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	return s.stop(srv, reaperDone, err)
}

// stop shuts srv down, waits for the reaper and revokes every lease.
func (s *Server) stop(srv *http.Server, reaperDone <-chan struct{}, serveErr error) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	shutErr := srv.Shutdown(ctx)
	<-reaperDone
	revokeErr := s.RevokeAll(ctx)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, shutErr, revokeErr)
}

// Run listens on cfg.Addr, writes one line with the server's address to log
// and serves until ctx is done. It is what `authbench stack serve-vault`
// runs in its detached child. The line names no token.
func Run(ctx context.Context, cfg Config, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	s, err := New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("vaultsrv: listen: %w", err)
	}
	_, _ = fmt.Fprintf(log, "vaultsrv: Vault API stand-in listening on http://%s (database secrets engine at %s/)\n",
		ln.Addr(), s.cfg.Mount)
	return s.Serve(ctx, ln)
}

// SetSealed seals or unseals the server. While sealed, sys/health reports
// sealed (503 by default) and every other endpoint answers 503
// {"errors":["Vault is sealed"]}; leases neither expire nor rotate, as
// Vault's expiration manager stops while sealed.
func (s *Server) SetSealed(sealed bool) { s.sealed.Store(sealed) }

// Sealed reports whether the server is sealed.
func (s *Server) Sealed() bool { return s.sealed.Load() }

// LeaseInfo describes an open lease on dynamic credentials.
type LeaseInfo struct {
	// LeaseID is the lease's ID, "<mount>/creds/<role>/<random>".
	LeaseID string
	// Role is the dynamic role the lease was issued for.
	Role string
	// Username is the database login the lease holds.
	Username string
	// IssueTime is when the lease was issued.
	IssueTime time.Time
	// ExpireTime is when the reaper will revoke it unless renewed.
	ExpireTime time.Time
}

// Leases returns the open leases sorted by issue time.
func (s *Server) Leases() []LeaseInfo {
	s.mu.Lock()
	out := make([]LeaseInfo, 0, len(s.leases))
	for _, l := range s.leases {
		out = append(out, l.info())
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].IssueTime.Before(out[j].IssueTime) })
	return out
}

// RevokeAll revokes every open lease, dropping its database role. It tries
// them all and returns the errors joined.
func (s *Server) RevokeAll(ctx context.Context) error {
	var errs []error
	for _, l := range s.Leases() {
		if err := s.revoke(ctx, l.LeaseID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// logf writes one background-failure line to cfg.ErrorLog, if set. Callers
// pass lease IDs, role and user names only, never a secret.
func (s *Server) logf(format string, args ...any) {
	if s.cfg.ErrorLog == nil {
		return
	}
	_, _ = fmt.Fprintf(s.cfg.ErrorLog, "vaultsrv: "+format+"\n", args...)
}

// reap runs until ctx is done, every cfg.ReapInterval expiring tokens and
// revoking expired leases, every cfg.StaticQueueTick rotating due static
// passwords.
// Static roles are rotated on their own, slower tick (cfg.StaticQueueTick),
// as the database backend's rotation queue does.
func (s *Server) reap(ctx context.Context) {
	t := time.NewTicker(s.cfg.ReapInterval)
	defer t.Stop()
	q := time.NewTicker(s.cfg.StaticQueueTick)
	defer q.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !s.Sealed() {
				s.expireTokens(ctx)
				s.revokeExpired(ctx)
			}
		case <-q.C:
			if !s.Sealed() {
				s.rotateDueStatic(ctx)
			}
		}
	}
}
