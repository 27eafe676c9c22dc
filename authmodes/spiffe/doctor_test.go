package spiffe

import (
	"context"
	"strings"
	"testing"

	"github.com/authbench/authbench/doctor"
)

// TestDoctorServerSVID: with --server-spiffe-id, doctor's server-svid step
// passes for a server presenting that SVID and fails, naming what it
// presents, for another ID or a certificate that is no SVID.
func TestDoctorServerSVID(t *testing.T) {
	f := newFixture(t)
	pkiServer := newPKIFixture(t)
	for _, c := range []struct {
		name, id string
		fx       *fixture
		status   doctor.Status
		want     string
	}{
		{"its SVID", serverID, f, doctor.StatusOK, "presents an SVID for " + serverID},
		{"another ID", "spiffe://authbench.test/elsewhere", f, doctor.StatusFail, "presents an SVID for " + serverID},
		{"no SVID", serverID, pkiServer, doctor.StatusFail, "a certificate without a SPIFFE ID"},
	} {
		m := newTestMode(t, "--spiffe-socket", f.iss.addr, "--server-spiffe-id", c.id)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		checks := m.Diagnose(ctx, c.fx.cfg.Copy(), doctor.Env{})
		cancel()
		var got *doctor.Check
		for i := range checks {
			if checks[i].Step == "server-svid" {
				got = &checks[i]
			}
		}
		if got == nil || got.Status != c.status || !strings.Contains(got.Detail.String(), c.want) {
			t.Errorf("%s: server-svid check %+v, want %v mentioning %q (all: %+v)", c.name, got, c.status, c.want, checks)
		}
	}
}
