// Package gssapi is the Kerberos (GSSAPI) auth mode: PostgreSQL's and
// CockroachDB's `gss` method, with tickets from an MIT (or any RFC 4120)
// KDC, through github.com/jcmturner/gokrb5/v8.
//
// Map of the package:
//
//	mode.go      flags, registration, Configure: one session per process
//	source.go    where the TGT comes from: keytab, password file or ccache
//	tgt.go       a TGT or service ticket and when it is due
//	session.go   the shared session: the TGT, logins, renewals
//	tickets.go   service tickets: cached per SPN, got with the current TGT
//	ccache.go    reading the TGT kinit left in a file credential cache
//	refresh.go   the goroutine that renews or replaces the TGT before expiry
//	provider.go  the pgconn GSS provider (SPNEGO tokens) and the SPN, as libpq builds it
//	errors.go    gokrb5 errors turned into one line that says what to fix
//
// The mode never calls gokrb5's client.Login, whose hidden auto-renewal
// goroutine cannot be observed: it runs the AS and TGS exchanges itself
// (client.ASExchange, client.TGSREQGenerateAndExchange) and owns the TGT,
// so every login and renewal is an event. All connections of the process
// share one session: a new connection costs a service-ticket lookup, which
// is cached until shortly before the ticket expires, never an AS exchange.
// The lookup happens in the pool's BeforeConnect hook, so its time is the
// handshake phase "credential".
//
// The SPN is built like libpq builds it: --krbsrvname (else
// $PGKRBSRVNAME, else "postgres") plus "/" plus the host name the client
// connects to, lower-cased (and canonicalised through DNS when krb5.conf
// says dns_canonicalize_hostname = true); pgx's krbspn names the whole
// principal instead.
//
// pgconn has a single, process-wide GSS provider: this package registers
// it in init, and it serves the session of the mode configured last.
package gssapi
