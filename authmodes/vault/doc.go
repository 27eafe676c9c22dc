// Package vault is the `vault` auth mode: database credentials from
// HashiCorp Vault's (or OpenBao's) database secrets engine, through the
// official client library github.com/hashicorp/vault/api only, so the same
// code runs against Vault, OpenBao and the stack's built-in stand-in.
//
// The mode logs in (a token from a file, or AppRole role_id/secret_id
// files), reads <mount>/creds/<role> (a dynamic role: a new database user
// per read) or <mount>/static-creds/<role> (a static role: one user whose
// password Vault rotates), and puts the current username and password into
// every new connection in the pool's BeforeConnect hook.
//
// Dynamic credentials: each lease is renewed by api.LifetimeWatcher while it
// is renewable. New credentials are fetched in the background at
// --vault-refresh-fraction of the lease's TTL (0.66 by default), well before
// it expires. Once they arrive, connections still logged in as the old user
// are retired by the pool's PrepareConn hook, each at its own random moment
// within the retire span (--vault-retire-jitter; by default half of what is
// left of the old lease, at most 10s), so the pool reconnects gradually
// instead of all at once; the old lease stays renewed meanwhile.
//
// Static credentials: the password is read again when Vault's rotation is
// due; the user stays the same, so open connections stay. The first
// password is proved with one login before the pool opens: refused (28P01)
// because Vault rotated it right after the read, it is read again until
// Vault serves the new one, which the pool's first connection then uses.
//
// The mode's own token, after an AppRole login, is renewed every third of
// its TTL and replaced by a new login once a renewal comes back short (its
// max TTL). Vault revokes every lease a token read when the token goes, so
// right after a new login the mode reads new dynamic credentials under the
// new token and retires the old user's connections before the old token
// expires.
//
// `run --rotate-every` forces a rotation through ForceRotation: new dynamic
// credentials at once, the old user's connections retired as above, and the
// old lease revoked once they are gone.
//
// Failures: a lease Vault no longer knows (revoked) or a database that
// refuses the current credentials (SQLSTATE 28P01/28000, seen by the
// connection's OnPgError) marks them stale and new ones are fetched at once;
// a session terminated by the server (57P01, as a revocation does) makes the
// mode ask Vault whether the lease still stands before the next connection
// uses it. pgxpool has no hook between a failed connect and its caller, so
// the one connection that met the refusal still fails (counted, class auth);
// the next one, and the driver's retry, get fresh credentials.
//
// Measurements: a Vault call made inside BeforeConnect is part of the
// handshake phase "credential"; background reads are recorded in that phase
// through Env.Phases. Events: "credentials" (the first set), "rotation"
// (every new set, Rotation=true), "renewal", "revocation" (Rotation=true),
// "rejected", "retire" and "login". No token, secret_id or password is ever
// part of an event, an error or a setting.
//
// # Map
//
//	mode.go     registration, Configure, Settings, Close
//	options.go  flags and their checks
//	client.go   the API client, health check, token and AppRole login
//	errors.go   Vault's errors as one line that says what to fix
//	creds.go    a credential set and its flags
//	source.go   reading dynamic and static credentials
//	keeper.go   the current set: when to replace it, and replacing it
//	events.go   what happened to the credentials, as events
//	loop.go     the background loop and the lease watchers
//	token.go    the mode's own token: renewals and new logins
//	firstconn.go the first static login, retried after a rotation
//	rotate.go   ForceRotation for `run --rotate-every` (authmodes.Rotator)
//	pool.go     the pgxpool hooks: BeforeConnect, PrepareConn, OnPgError
package vault
