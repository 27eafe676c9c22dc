package vault

import (
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/stack/vault/vaultsrv"
)

// An AppRole token shorter-lived than the run: the mode renews it, logs in
// again when a renewal comes back short (its max TTL), and reads new
// credentials under the new token before the old one expires and takes its
// leases along; no lease the mode uses is revoked under it.
func TestAppRoleTokenIsRenewedAndReplaced(t *testing.T) {
	s := startServer(t, time.Minute, time.Hour, time.Hour, func(c *vaultsrv.Config) {
		c.AppRole.TokenTTL, c.AppRole.TokenMaxTTL = 3*time.Second, 6*time.Second
	})
	dir := t.TempDir()
	m, rec, cfg := configured(t, "--vault-addr", s.addr, "--vault-role", "bench", "--vault-auth", "approle",
		"--vault-role-id-file", writeFile(t, dir, "role-id", testRoleID),
		"--vault-secret-id-file", writeFile(t, dir, "secret-id", testSecretID))
	first, _ := credentials(t, cfg)
	rec.WaitKind(t, "login", 3, time.Minute)
	if len(rec.Kind("renewal")) == 0 {
		t.Errorf("no token renewal before the logins: %s", rec.Text())
	}
	rot := rec.WaitKind(t, "rotation", 2, time.Minute)
	if len(rot) < 2 || !strings.Contains(rot[0].Detail, "new Vault token") {
		t.Fatalf("rotations %+v, want new credentials after each login", rot)
	}
	if now, _ := credentials(t, cfg); now == first {
		t.Errorf("still user %s after new logins", first)
	}
	if cur := m.k.current(); cur.has(flagRevoked) {
		t.Errorf("current credentials revoked: %s", rec.Text())
	}
	for _, r := range rec.Kind("revocation") {
		t.Errorf("a lease was revoked while the mode used it: %s", r.Detail)
	}
}
