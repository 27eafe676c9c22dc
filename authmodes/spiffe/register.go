package spiffe

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/authbench/authbench/fix"
)

// selectors are what SPIRE's unix workload attestor sees of this process:
// the selectors a registration entry must have (any of them) to select it.
func selectors() []string {
	uid, gid := os.Getuid(), os.Getgid()
	out := []string{"unix:uid:" + strconv.Itoa(uid)}
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		out = append(out, "unix:user:"+u.Username)
	}
	out = append(out, "unix:gid:"+strconv.Itoa(gid))
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		out = append(out, "unix:group:"+g.Name)
	}
	return out
}

// selectorText names the process by its selectors, for errors.
func selectorText() string { return "selectors " + strings.Join(selectors(), ", ") }

// registerFix says how to give this process an identity: the
// `spire-server entry create` that registers it for the SQL user, and,
// when the socket is the local stack's, that the stack registers the user
// who ran `stack up`.
func (m *mode) registerFix() fix.Text {
	user := m.user
	if user == "" {
		user = "<sql user>"
	}
	cmd := fmt.Sprintf("spire-server entry create -parentID <the agent's SPIFFE ID> -spiffeID spiffe://<trust domain>/authbench/%s -dns %s -selector unix:uid:%d",
		user, user, os.Getuid())
	if m.stackSocket() {
		return fix.Textf("run authbench as the user that ran `%v` (its SPIRE registers that user's uid), or register this one: %s", fix.Command("stack up"), cmd)
	}
	return fix.Textf("register it with the SPIRE server: %s (the first -dns is the SVID's CN, the SQL user)", cmd)
}

// stackSocket reports whether the mode reads the Workload API that
// `stack env` points at: the local stack's.
func (m *mode) stackSocket() bool {
	env := os.Getenv(workloadapi.SocketEnv)
	if strings.HasPrefix(env, "/") {
		env = "unix://" + env
	}
	return os.Getenv("AUTHBENCH_SPIFFE_USER") != "" && env != "" && env == m.addr
}
