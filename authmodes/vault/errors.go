package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/hashicorp/vault/api"
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

// vaultError turns an error of the API client into one line that says what
// is wrong and how to fix it. It never includes a request body, so no
// token, secret_id or password can end up in it; what it quotes from Vault
// are Vault's error messages, which hold none either.
func (c *conf) vaultError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		return c.responseError(op, path, re)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("Vault at %s did not answer in time (%s): check that it runs and --vault-addr", c.addr, path)
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return fmt.Errorf("Vault at %s is unreachable (%s): check --vault-addr or VAULT_ADDR, and that Vault runs (`authbench stack status`)", c.addr, rootCause(err))
	}
	return fmt.Errorf("Vault at %s: %s (%s)", c.addr, oneLine(err.Error()), path)
}

// responseError explains an HTTP error answer by status and message.
func (c *conf) responseError(op, path string, re *api.ResponseError) error {
	msg := strings.Join(re.Errors, "; ")
	switch {
	case re.StatusCode == 503 && strings.Contains(msg, "sealed"):
		return fmt.Errorf("Vault at %s is sealed: unseal it (`vault operator unseal`) and run again", c.addr)
	case op == opAppRole && (re.StatusCode == 400 || re.StatusCode == 403):
		return fmt.Errorf("Vault refused the AppRole login (%s): check --vault-role-id-file %s and --vault-secret-id-file %s", oneLine(msg), c.roleIDFile, c.secretIDFile)
	case op == opToken && re.StatusCode == 403:
		return fmt.Errorf("Vault refused the token from %s (invalid or expired): check --vault-token-file, or log in with --vault-auth approle", c.tokenSource())
	case re.StatusCode == 403:
		return fmt.Errorf("Vault denied %s (permission denied): the token's policies must allow it (%s)", path, policyHint(op, path))
	case re.StatusCode == 400 && strings.Contains(msg, "unknown role"):
		return fmt.Errorf("Vault has no role %q at %s: check %s and --vault-mount", lastElem(path), path, roleFlag(op))
	case re.StatusCode == 404:
		return fmt.Errorf("nothing at %s on Vault %s: check --vault-mount (is the database secrets engine mounted there?) and %s", path, c.addr, roleFlag(op))
	}
	return fmt.Errorf("Vault at %s answered HTTP %d for %s: %s", c.addr, re.StatusCode, path, oneLine(msg))
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

func roleFlag(op string) string {
	if op == opStatic {
		return "--vault-static-role"
	}
	return "--vault-role"
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
