package vault

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/vault/vaultsrv"
)

// DBConnConfig returns the connection the credential server manages roles
// with: AdminUser by client certificate, through the load balancer with
// TLS verify-full, as Vault's database plugin would connect.
func DBConnConfig(st *stack.State) (*pgx.ConnConfig, error) {
	cfg, err := st.AdminConnConfigAt(st.LBHost, st.LBPort, "authbench-vault")
	if err != nil {
		return nil, fmt.Errorf("vault database connection config: %w", err)
	}
	return cfg, nil
}

// ServerConfig returns the built-in credential server's configuration for
// the stack st: the roles, the TTLs, the secrets read from their files and
// a DB through the load balancer. The caller closes the returned DB.
func ServerConfig(st *stack.State) (vaultsrv.Config, *vaultsrv.PostgresDB, error) {
	v, err := of(st)
	if err != nil {
		return vaultsrv.Config{}, nil, err
	}
	secrets, err := readSecrets(st, v.TokenFile, v.RoleIDFile, v.SecretIDFile)
	if err != nil {
		return vaultsrv.Config{}, nil, err
	}
	connCfg, err := DBConnConfig(st)
	if err != nil {
		return vaultsrv.Config{}, nil, err
	}
	db := vaultsrv.NewPostgresDB(connCfg)
	set := v.Settings
	return vaultsrv.Config{
		Addr:      stack.HostPort("127.0.0.1", v.Port),
		Mount:     Mount,
		RootToken: secrets[0],
		AppRole: vaultsrv.AppRole{
			RoleName: AppRole, RoleID: secrets[1], SecretID: secrets[2],
			TokenTTL: set.TokenTTL, TokenMaxTTL: set.TokenMaxTTL, Policies: appRolePolicies(),
		},
		DynamicRoles: map[string]vaultsrv.DynamicRole{Role: {
			DefaultTTL: set.DefaultTTL, MaxTTL: set.MaxTTL, GrantRoles: []string{stack.RWRole, GroupRole},
		}},
		StaticRoles: map[string]vaultsrv.StaticRole{StaticRole: {
			Username: StaticUser, RotationPeriod: set.StaticRotation,
		}},
		DB: db,
	}, db, nil
}

// Serve runs the stack's credential server in the foreground until ctx
// ends: a real vault or bao dev server under supervise, or the built-in
// stand-in, which then revokes every lease it issued (dropping their
// database roles). `stack up` starts it as a detached child and waits for
// its ready line. SIGUSR1 seals it and SIGUSR2 unseals it, for fault
// tests. Nothing it prints holds a token, secret_id or password.
func (component) Serve(ctx context.Context, st *stack.State, stdout io.Writer) error {
	if v := Of(st); v != nil && v.Server != Builtin {
		return supervise(ctx, st, stdout)
	}
	cfg, db, err := ServerConfig(st)
	if err != nil {
		return err
	}
	defer db.Close()
	cfg.ErrorLog = stdout
	srv, err := vaultsrv.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return &stack.StackError{Dir: st.Dir, Component: Name, Err: stack.ErrInUse, Detail: "cannot listen on " + cfg.Addr + ": " + err.Error(), Cause: err}
	}
	stopSeal := sealOnSignals(srv, stdout)
	defer stopSeal()
	ready := fmt.Sprintf("%s Vault API stand-in on http://%s (database secrets engine at %s/, roles %s and %s, AppRole %s)",
		stack.ReadyPrefix, ln.Addr(), Mount, Role, StaticRole, AppRole)
	return srv.Serve(ctx, &readyListener{Listener: ln, out: stdout, line: ready})
}

// readyListener prints its line on the first Accept, that is once the
// server answers requests (after the static roles got their passwords).
type readyListener struct {
	net.Listener
	out  io.Writer
	line string
	once sync.Once
}

// Accept prints the ready line once, then accepts.
func (l *readyListener) Accept() (net.Conn, error) {
	l.once.Do(func() { fmt.Fprintln(l.out, l.line) })
	return l.Listener.Accept()
}

// sealOnSignals seals the server on SIGUSR1 and unseals it on SIGUSR2
// until the returned func is called.
func sealOnSignals(srv *vaultsrv.Server, log io.Writer) func() {
	return onSealSignals(func(seal bool, sig os.Signal) {
		srv.SetSealed(seal)
		fmt.Fprintf(log, "vaultsrv: sealed=%v (%v)\n", srv.Sealed(), sig)
	})
}

// onSealSignals calls set(true, sig) on SIGUSR1 and set(false, sig) on
// SIGUSR2, one signal at a time, until the returned func is called. Both
// the stand-in and the supervised dev server are sealed this way.
func onSealSignals(set func(seal bool, sig os.Signal)) func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGUSR2)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				set(sig == syscall.SIGUSR1, sig)
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
