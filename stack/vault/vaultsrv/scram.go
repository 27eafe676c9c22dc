package vaultsrv

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// scramIterations is PostgreSQL's default scram_iterations.
const scramIterations = 4096

// scramVerifier returns the SCRAM-SHA-256 verifier PostgreSQL stores for
// password (RFC 5802/7677, PostgreSQL's scram_build_secret):
//
//	SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
//
// Sending the verifier instead of the password, as psql's \password and
// libpq's PQencryptPasswordConn do, keeps the plaintext out of the server's
// statement log and pg_stat_activity; PostgreSQL and CockroachDB store a
// pre-hashed verifier as is. ok is false when password is not printable
// ASCII, where SASLprep could change it; the caller then sends it quoted.
func scramVerifier(password string) (verifier string, ok bool) {
	if !printableASCII(password) {
		return "", false
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic("vaultsrv: crypto/rand failed: " + err.Error())
	}
	return scramVerifierWithSalt(password, salt, scramIterations), true
}

func scramVerifierWithSalt(password string, salt []byte, iterations int) string {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		panic("vaultsrv: pbkdf2: " + err.Error()) // only for impossible parameters
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(storedKey[:]), b64(serverKey))
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// printableASCII reports whether SASLprep leaves s unchanged for certain.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}
