package spiffe

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/authbench/authbench/fix"
)

// TestExplainTLSAlert checks a server's TLS alert (a refused SVID) is
// recognised by its type, through pgconn's wrapping, as a credential
// failure of the login that keeps the alert in the chain.
func TestExplainTLSAlert(t *testing.T) {
	alert := &net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}
	m := &mode{id: clientID}
	err := m.explain(fmt.Errorf("failed to connect to `user=bench_spiffe`: %w", alert), "bench_spiffe")
	fe, ok := fix.As(err)
	if !ok || fe.Step != "login" || !fe.CredentialFailure() || !errors.Is(err, alert) || fe.Fix.IsZero() {
		t.Errorf("explain = %#v, want a credential failure of step login with a fix and the alert in its chain", err)
	}
	if m.explain(errors.New("connection refused"), "bench_spiffe") != nil {
		t.Error("an error the probe cannot explain is not left to the caller")
	}
}
