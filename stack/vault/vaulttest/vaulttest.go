// Package vaulttest runs the vault tests once per credential server: the
// stand-in always, a real OpenBao (or Vault) when one is on PATH.
package vaulttest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/authbench/authbench/stack/vault"
)

// RequireRealEnv names the variable that makes a missing real Vault
// server (bao or vault on PATH) a test failure instead of a skip; CI sets
// it after `make openbao`.
const RequireRealEnv = "AUTHBENCH_REQUIRE_REAL_VAULT"

// Server is one credential server a vault test runs against.
type Server struct {
	// Name names the subtest: "stand-in" or "openbao" (or "vault").
	Name string
	// Server is vault.Settings.Server: vault.Builtin or a path.
	Server string
}

// Real returns the real server on PATH (bao, else vault). Without
// one the test is skipped with one line naming RequireRealEnv and
// the shared binary, or fails when RequireRealEnv=1.
func Real(t testing.TB) Server {
	t.Helper()
	if v, ok := realVault(); ok {
		return v
	}
	msg := "no bao or vault on PATH, so the test against a real OpenBao does not run: `make openbao` unpacks ../shared/tools/openbao/bao.xz into .tools/ (then PATH=$PWD/.tools:$PATH); " +
		RequireRealEnv + "=1 makes this a failure"
	if os.Getenv(RequireRealEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return Server{}
}

// Servers runs f once per available credential server, each as a
// subtest: the stand-in always, the real server when Real finds one
// (its subtest skips or fails as Real says otherwise).
func Servers(t *testing.T, f func(t *testing.T, srv Server)) {
	t.Run("stand-in", func(t *testing.T) { f(t, Server{Name: "stand-in", Server: vault.Builtin}) })
	name := "openbao"
	if v, ok := realVault(); ok {
		name = v.Name
	}
	t.Run(name, func(t *testing.T) { f(t, Real(t)) })
}

// OnceOnReal skips a test on the stand-in when a real server runs it in
// the same test run, for tests whose point is the real server's behaviour
// (CI time); without a real server they run on the stand-in.
func OnceOnReal(t testing.TB, srv Server) {
	t.Helper()
	if _, ok := realVault(); ok && srv.Server == vault.Builtin {
		t.Skip("runs against the real server in this test run")
	}
}

// realVault finds bao, else vault, on PATH.
func realVault() (Server, bool) {
	for _, name := range []string{"bao", "vault"} {
		if p, err := exec.LookPath(name); err == nil {
			return Server{Name: map[string]string{"bao": "openbao", "vault": "vault"}[name], Server: p}, true
		}
	}
	return Server{}, false
}
