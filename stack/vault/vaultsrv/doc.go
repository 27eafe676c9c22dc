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
//	PUT|POST  /v1/auth/token/revoke-self         204; its leases are revoked too
//	GET       /v1/<mount>/creds/<role>           dynamic role: a new database login
//	GET       /v1/<mount>/static-creds/<role>    static role: a rotated password
//	PUT|POST  /v1/sys/leases/renew[/<lease_id>]  {"lease_id","increment"}
//	PUT|POST  /v1/sys/leases/revoke[/<lease_id>] {"lease_id"}; 204
//	PUT|POST  /v1/sys/leases/revoke-prefix/<p>   204
//	PUT|POST  /v1/sys/leases/lookup              {"lease_id"}
//	LIST      /v1/sys/leases/lookup/<prefix>/    {"keys"}
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
//	lookup.go    sys/leases/lookup (and LIST) and revoke-prefix
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
// differential_test.go sends the same requests to a real OpenBao (v2.6.2)
// and to the stand-in and holds them to the same status codes, error
// texts and answer shapes; what it found is now the stand-in's behaviour:
// the root token's display name "token" (users v-token-…), OpenBao's 404
// texts ("unsupported path" inside a mount, "no handler for route …"
// outside), "lease is not renewable" for the root token's renew-self,
// revoke-self, lease lookup and revoke-prefix, and a token's leases
// revoked with it.
//
// There is no storage and no policy engine: every valid token may use every
// endpoint, and state lives in memory. Because a restart would orphan every
// database role it made, Serve revokes all leases when it stops. A lease
// never outlives its max_ttl, where Vault's whole-second arithmetic can
// overshoot it by under a second. Static roles are rotated on a queue
// checked every StaticQueueTick (OpenBao's 5s), but may have periods under
// OpenBao's 5s minimum, for tests. sys/leases/revoke-prefix revokes before
// it answers, where OpenBao answers first and revokes in the background.
// A missing, unknown or expired token gets 403 {"errors":["permission
// denied"]}, as OpenBao 2.6 answers; Vault 1.17 and later add "invalid
// token" (hashicorp/vault#25953), and clients that match on "permission
// denied", as api.LifetimeWatcher does, behave the same with both.
//
// Passwords are sent to the database as SCRAM-SHA-256 verifiers, so they
// stay out of its statement log, and they are never written to any log.
package vaultsrv
