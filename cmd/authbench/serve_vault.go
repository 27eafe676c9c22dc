package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/vault/vaultsrv"
)

func init() { serveCommands["serve-vault"] = serveVault }

const serveVaultUsage = "stack serve-vault --dir DIR"

// serveVault runs the stack's built-in credential server in the foreground
// until SIGTERM or SIGINT, then revokes every lease it issued (dropping
// their database roles). `stack up` starts it as a detached child and waits
// for its ready line. SIGUSR1 seals it and SIGUSR2 unseals it, for fault
// tests. Nothing it prints holds a token, secret_id or password.
func serveVault(ctx context.Context, args []string, stdout io.Writer) error {
	st, err := serveState("stack serve-vault", serveVaultUsage, args, stdout)
	if err != nil {
		return err
	}
	cfg, db, err := st.VaultServerConfig()
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
		return fmt.Errorf("cannot listen on %s: %v (another process took the port: run `authbench stack down`, then `stack up`)", cfg.Addr, err)
	}
	stopSeal := sealOnSignals(srv, stdout)
	defer stopSeal()
	ready := fmt.Sprintf("%s Vault API stand-in on http://%s (database secrets engine at %s/, roles %s and %s, AppRole %s)",
		stack.ReadyPrefix, ln.Addr(), stack.VaultMount, stack.VaultRole, stack.VaultStaticRole, stack.VaultAppRole)
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
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGUSR2)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				srv.SetSealed(sig == syscall.SIGUSR1)
				fmt.Fprintf(log, "vaultsrv: sealed=%v (%v)\n", srv.Sealed(), sig)
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
