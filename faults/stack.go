package faults

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/stack"
	"github.com/authbench/authbench/stack/vault"
)

// StackCommitDropper starts a CommitDropper in front of the stack's load
// balancer that presents the database's own certificate, so TLS
// verify-full and SCRAM channel binding hold through it.
func StackCommitDropper(st *stack.State, every, drops int) (*CommitDropper, error) {
	return StackCommitDropperAs(st, "", every, drops)
}

// StackCommitDropperAs is StackCommitDropper for a user who logs in with a
// client certificate: TLS ends at the proxy, so the proxy asks the client
// for its certificate (the driver still picks one per connection, and so
// still sees a rotation) and presents certUser's own (client.<certUser>.crt
// in the stack's certificate directory) upstream; "" asks and presents none.
func StackCommitDropperAs(st *stack.State, certUser string, every, drops int) (*CommitDropper, error) {
	server, upstream, err := stackTLS(st, certUser)
	if err != nil {
		return nil, err
	}
	return NewCommitDropper(fmt.Sprintf("127.0.0.1:%d", st.LBPort), server, upstream, every, drops)
}

// StackStatementFailer is StackCommitDropperAs without dropped COMMITs:
// a proxy for FailStatement.
func StackStatementFailer(st *stack.State, certUser string) (*CommitDropper, error) {
	server, upstream, err := stackTLS(st, certUser)
	if err != nil {
		return nil, err
	}
	return newProxy(fmt.Sprintf("127.0.0.1:%d", st.LBPort), server, upstream, 1, 0)
}

// stackTLS returns what a proxy in front of the stack's load balancer
// presents to clients (the database's own certificate, asking for the
// client's when certUser is set) and how it connects upstream (as
// certUser, when set).
func stackTLS(st *stack.State, certUser string) (server, upstream *tls.Config, err error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(st.CertsDir, "server.crt"), filepath.Join(st.CertsDir, "server.key"))
	if err != nil {
		return nil, nil, fmt.Errorf("commit dropper: the database's certificate: %w", err)
	}
	caPEM, err := os.ReadFile(st.CAFile)
	if err != nil {
		return nil, nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, nil, fmt.Errorf("commit dropper: no certificate in %s", st.CAFile)
	}
	upstream = &tls.Config{RootCAs: roots, ServerName: stack.LBHost, MinVersion: tls.VersionTLS12}
	server = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if certUser != "" {
		server.ClientAuth = tls.RequestClientCert
		base := filepath.Join(st.CertsDir, "client."+certUser)
		client, err := tls.LoadX509KeyPair(base+".crt", base+".key")
		if err != nil {
			return nil, nil, fmt.Errorf("commit dropper: %s's client certificate: %w", certUser, err)
		}
		upstream.Certificates = []tls.Certificate{client}
	}
	return server, upstream, nil
}

// TerminateSessions ends every session of user from the server side and
// returns how many it ended.
func TerminateSessions(ctx context.Context, conn *pgx.Conn, user string) (int, error) {
	var ended int
	err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
		FROM pg_stat_activity WHERE usename = $1`, user).Scan(&ended)
	return ended, err
}

// WaitBackendUp waits until HAProxy's health check has the database server
// running again (operational state 2, no admin state).
func WaitBackendUp(st *stack.State, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		out, err := st.HAProxyCommand("show servers state " + stack.HAProxyBackend)
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); err == nil && len(f) > 6 && f[3] == stack.HAProxyServer && f[5] == "2" && f[6] == "0" {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("HAProxy did not bring %s/%s back up within %s", stack.HAProxyBackend, stack.HAProxyServer, timeout)
}

// VaultRootClient is a Vault API client of the stack's credential server
// with its root token.
func VaultRootClient(st *stack.State) (*api.Client, error) {
	return vault.RootClient(st)
}
