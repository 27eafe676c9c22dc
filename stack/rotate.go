package stack

import (
	"context"
	"fmt"
)

// ForceRotation replaces the credential of user for the given auth mode, as
// the deployment's infrastructure would, through the component whose
// Rotator handles the mode: a fresh client certificate from the CA (pki:
// cert), a new password set with ALTER ROLE and written to the user's
// password file (postgres: password), new SVIDs pushed by the issuer
// (spiffe). Modes whose client renews itself (gssapi,
// vault) rotate in the driver instead. It returns what was done, for the
// event's detail (never a secret).
func (s *State) ForceRotation(ctx context.Context, mode, user string) (string, error) {
	for _, c := range Components() {
		if r, ok := c.(Rotator); ok && r.RotatesMode(mode) {
			return r.Rotate(ctx, s, user)
		}
	}
	return "", fmt.Errorf("the stack cannot rotate credentials of auth mode %q", mode)
}
