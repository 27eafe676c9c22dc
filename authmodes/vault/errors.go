package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/authbench/authbench/fix"
)

// What the mode was doing when Vault failed; it picks the advice.
const (
	opHealth   = "health"
	opToken    = "token"
	opAppRole  = "approle"
	opCreds    = "creds"
	opRenew    = "renew"
	opStatic   = "static"
	opRevoke   = "revoke"
	opReadFile = "file"
)

// vaultError explains an error of the API client: what is wrong and how
// to fix it, with err kept as the cause (errors.As finds the
// *api.ResponseError). It never includes a request body, so no token,
// secret_id or password can end up in it; what it quotes from Vault are
// Vault's error messages, which hold none either.
func (c *conf) vaultError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	e := &fix.Error{Step: opStep(op), Err: err}
	var re *api.ResponseError
	var ue *url.Error
	var ne net.Error
	switch {
	case errors.As(err, &re):
		e.What, e.Fix = c.responseError(op, path, re)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e.What = fix.Textf("Vault at %s did not answer in time (%s)", c.addr, path)
		e.Fix = fix.Textf("check that it runs and %v", fix.Flag("vault-addr"))
	case errors.As(err, &ue) || errors.As(err, &ne):
		e.What = fix.Textf("Vault at %s is unreachable (%s)", c.addr, rootCause(err))
		e.Fix = fix.Textf("check %v or VAULT_ADDR, and that Vault runs (`%v`)", fix.Flag("vault-addr"), fix.Command("stack status"))
	default:
		e.What = fix.Textf("Vault at %s: %s (%s)", c.addr, oneLine(err.Error()), path)
	}
	return e
}

// opStep names the doctor's step of an operation.
func opStep(op string) string {
	switch op {
	case opHealth:
		return "vault"
	case opToken, opAppRole:
		return "vault-login"
	}
	return "vault-role"
}

// responseError explains an HTTP error answer by status and message.
func (c *conf) responseError(op, path string, re *api.ResponseError) (what, repair fix.Text) {
	msg := strings.Join(re.Errors, "; ")
	switch {
	case re.StatusCode == 503 && strings.Contains(msg, "sealed"):
		return fix.Textf("Vault at %s is sealed", c.addr), fix.Textf("unseal it (`vault operator unseal`) and run again")
	case op == opAppRole && (re.StatusCode == 400 || re.StatusCode == 403):
		return fix.Textf("Vault refused the AppRole login (%s)", oneLine(msg)),
			fix.Textf("check %v %s and %v %s", fix.Flag("vault-role-id-file"), c.roleIDFile, fix.Flag("vault-secret-id-file"), c.secretIDFile)
	case op == opToken && re.StatusCode == 403:
		return fix.Textf("Vault refused the token from %v (invalid or expired)", c.tokenSource()),
			fix.Textf("check %v, or log in with %v approle", fix.Flag("vault-token-file"), fix.Flag("vault-auth"))
	case re.StatusCode == 403:
		return fix.Textf("Vault denied %s (permission denied)", path), fix.Textf("the token's policies must allow it (%s)", policyHint(op, path))
	case re.StatusCode == 400 && strings.Contains(msg, "unknown role"):
		return fix.Textf("Vault has no role %q at %s", lastElem(path), path), fix.Textf("check %v and %v", roleFlag(op), fix.Flag("vault-mount"))
	case re.StatusCode == 404:
		return fix.Textf("nothing at %s on Vault %s", path, c.addr),
			fix.Textf("check %v (is the database secrets engine mounted there?) and %v", fix.Flag("vault-mount"), roleFlag(op))
	}
	return fix.Textf("Vault at %s answered HTTP %d for %s: %s", c.addr, re.StatusCode, path, oneLine(msg)), fix.Text{}
}

// leaseGone reports whether a renewal failed because Vault no longer has
// the lease (revoked, or expired), as opposed to Vault being unreachable.
func leaseGone(err error) bool {
	var re *api.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 400 {
		return false
	}
	msg := strings.Join(re.Errors, " ")
	return strings.Contains(msg, "lease not found") || strings.Contains(msg, "lease expired") ||
		strings.Contains(msg, "invalid lease")
}

func policyHint(op, path string) string {
	switch op {
	case opRenew, opRevoke:
		return `update on sys/leases/renew and sys/leases/revoke`
	}
	return fmt.Sprintf(`read on %q`, path)
}

func roleFlag(op string) fix.Flag {
	if op == opStatic {
		return "vault-static-role"
	}
	return "vault-role"
}

// rootCause is the innermost error's message, e.g. "connection refused".
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return oneLine(err.Error())
		}
		err = next
	}
}

func lastElem(path string) string {
	return path[strings.LastIndexByte(path, '/')+1:]
}

// oneLine folds a message onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
