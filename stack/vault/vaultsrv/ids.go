package vaultsrv

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"
)

const (
	base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	// idLength is Vault's TokenLength: lease IDs, tokens and accessors carry
	// 24 random base62 characters (vault/expiration.go Register).
	idLength = 24
	// maxIdentifierLen is PostgreSQL's NAMEDATALEN-1, the "truncate 63" at
	// the end of Vault's PostgreSQL username template.
	maxIdentifierLen = 63
	// passwordLength and passwordCharsets are Vault's default password
	// policy for database plugins: 20 characters with at least one
	// lowercase letter, one uppercase letter, one digit and one dash.
	passwordLength = 20
)

var passwordCharsets = []string{
	"abcdefghijklmnopqrstuvwxyz",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"0123456789",
	"-",
}

// randomString returns n characters drawn uniformly from alphabet with
// crypto/rand.
func randomString(n int, alphabet string) string {
	var b strings.Builder
	b.Grow(n)
	limit := big.NewInt(int64(len(alphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, limit)
		if err != nil {
			panic("vaultsrv: crypto/rand failed: " + err.Error())
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}

// newServiceToken returns a token in Vault's service-token form, "hvs." and
// random base62 (Vault 1.10+ token format).
func newServiceToken() string { return "hvs." + randomString(idLength, base62) }

// newAccessor returns a token accessor.
func newAccessor() string { return randomString(idLength, base62) }

// newLeaseID returns "<request path>/<random>", as Vault's expiration manager
// names leases (vault/expiration.go Register: path.Join(req.Path, leaseRand)).
func newLeaseID(requestPath string) string {
	return requestPath + "/" + randomString(idLength, base62)
}

// NewUUID returns a random RFC 4122 version 4 UUID, the form of Vault's
// request_id, entity_id and cluster_id (and of the stack's AppRole IDs).
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("vaultsrv: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newUsername follows the PostgreSQL plugin's default username_template,
//
//	{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}
//
// where DisplayName is the token's display name ("approle", "token" for the root token).
func newUsername(displayName, roleName string, now time.Time) string {
	name := fmt.Sprintf("v-%s-%s-%s-%d",
		truncate(displayName, 8), truncate(roleName, 8), randomString(20, base62), now.Unix())
	return truncate(name, maxIdentifierLen)
}

// truncate keeps the first n runes of s.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// newPassword returns a password that satisfies Vault's default password
// policy (see passwordCharsets). It redraws until every charset is present.
func newPassword() string {
	all := strings.Join(passwordCharsets, "")
	for {
		p := randomString(passwordLength, all)
		if hasEveryCharset(p) {
			return p
		}
	}
}

func hasEveryCharset(p string) bool {
	for _, cs := range passwordCharsets {
		if !strings.ContainsAny(p, cs) {
			return false
		}
	}
	return true
}
