// Package vaultsrv is authbench's built-in credential server: a stand-in for
// HashiCorp Vault's database secrets engine, used by the local stack when
// neither `vault` nor `bao` is on PATH.
//
// It answers exactly the API subset that authbench's vault auth mode uses,
// with Vault's paths, JSON bodies, status codes and error shapes, so that the
// client side is always the official github.com/hashicorp/vault/api library
// and cannot tell the difference:
//
//	GET|HEAD  /v1/sys/health                     no token; 200, or 503 when sealed
//	PUT|POST  /v1/auth/approle/login             no token; {"role_id","secret_id"}
//	GET       /v1/auth/token/lookup-self
//	PUT|POST  /v1/auth/token/renew-self          {"increment"}
//	GET       /v1/<mount>/creds/<role>           dynamic role: a new database login
//	GET       /v1/<mount>/static-creds/<role>    static role: a rotated password
//	PUT|POST  /v1/sys/leases/renew[/<lease_id>]  {"lease_id","increment"}
//	PUT|POST  /v1/sys/leases/revoke[/<lease_id>] {"lease_id"}; 204
//
// Everything except sys/health and the AppRole login needs a token in the
// X-Vault-Token header (or "Authorization: Bearer"). Requests are checked in
// Vault's order: HTTP method, seal, token, route.
//
// # Map
//
//	config.go    DB, Config and the role types, defaults and validation
//	server.go    Server: New, Serve, Run, SetSealed, Leases, RevokeAll
//	router.go    the HTTP entry point: method, seal, token, route
//	respond.go   Vault's response envelope and error bodies
//	tokens.go    root and AppRole tokens: login, lookup-self, renew-self
//	leases.go    dynamic credentials: issue, renew, revoke, expiry
//	static.go    static roles: periodic password rotation
//	health.go    sys/health
//	ttl.go       Vault's TTL arithmetic (sdk/framework CalculateTTL)
//	ids.go       tokens, lease IDs, usernames and passwords
//	postgres.go  DB on PostgreSQL/CockroachDB through pgx
//	scram.go     SCRAM-SHA-256 verifiers, so no plaintext password is sent
//
// # Sources followed
//
// Client side: github.com/hashicorp/vault/api v1.23.0 (response.go,
// secret.go, logical.go, sys_leases.go, sys_health.go, lifetime_watcher.go)
// and github.com/hashicorp/vault/api/auth/approle. Server side: Vault's
// builtin/logical/database (path_creds_create.go, secret_creds.go),
// builtin/credential/approle/path_login.go, vault/expiration.go,
// vault/logical_system.go, sdk/framework CalculateTTL,
// sdk/logical/response_util.go and the HTTP API docs for /sys/health,
// /sys/leases, AppRole and the database secrets engine. Each file names the
// pieces it follows.
//
// # Deliberate differences from Vault
//
// There is no storage and no policy engine: every valid token may use every
// endpoint, and state lives in memory. Because a restart would orphan every
// database role it made, Serve revokes all leases when it stops. A lease
// never outlives its max_ttl, where Vault's whole-second arithmetic can
// overshoot it by under a second. Static roles may rotate more often than
// Vault's 5s minimum, for tests.
//
// Error bodies follow Vault up to 1.16: a missing, unknown or expired token
// gets 403 {"errors":["permission denied"]}. Vault 1.17 and later add
// "invalid token" to that message for an unknown or expired token
// (hashicorp/vault#25953); clients that match on "permission denied", as
// api.LifetimeWatcher does, behave the same with both. Every path nothing
// answers gets 404 {"errors":[]}, where Vault sometimes names the missing
// route; api.Logical reads any 404 as a nil secret.
//
// Passwords are sent to the database as SCRAM-SHA-256 verifiers, so they
// stay out of its statement log, and they are never written to any log.
package vaultsrv
