// Package spiffe is the SPIFFE auth mode: the client certificate is the
// X509-SVID that the SPIFFE Workload API (a SPIRE agent, such as the local
// stack's) hands this process, and the SQL user is the
// SVID's CN, which SPIRE sets to the registration entry's first DNS name.
//
// Configure opens a go-spiffe X509Source on --spiffe-socket (bounded by
// --spiffe-timeout), records the wait for the first SVID as the handshake
// phase "credential", and makes every new connection present the SVID
// current at that moment. The database server is verified against --ca
// (pgx's verify-full) or, with --server-spiffe-id, as a SPIFFE peer against
// the trust bundle from the Workload API.
//
// Every new SVID is an event ("rotation", with serial and expiry). Unless
// --spiffe-recycle=off, connections that presented an older SVID are
// retired at a jittered moment within --spiffe-recycle-jitter of the
// rotation: the pool refuses them in PrepareConn ("retire" events) and
// opens new ones, so the server sees every new SVID.
// Other events: "svid" (the first SVID), "watch-error" (the Workload API
// stream broke; go-spiffe keeps retrying) and "expired" (the SVID expired
// with no new one, so new connections fail with a *fix.Error that is a
// credential failure).
package spiffe
