// Package spiffeissuer is a built-in SPIFFE Workload API server: a stand-in
// for a SPIRE agent on machines where SPIRE cannot be installed.
//
// It speaks the same gRPC API as a SPIRE agent (go-spiffe's
// proto/spiffe/workload) on a unix socket, so workloads use the ordinary
// go-spiffe client (workloadapi.NewX509Source and friends) against it exactly
// as they would against SPIRE. What it copies from SPIRE:
//
//   - Every Workload API call must carry the "workload.spiffe.io: true"
//     metadata header, or it fails with InvalidArgument "security header
//     missing from request" (SPIRE's pkg/agent/endpoints/middleware.go).
//   - The caller is attested from the unix socket's peer credentials
//     (SO_PEERCRED); registration entries select callers by unix UID, like
//     SPIRE's unix:uid selector. A caller no entry matches gets
//     PermissionDenied "no identity issued" from FetchX509SVID and
//     FetchX509Bundles (SPIRE's pkg/agent/endpoints/workload/handler.go).
//   - X509-SVIDs follow SPIRE's workload template (pkg/server/credtemplate):
//     URI SAN = SPIFFE ID, DNS SANs, Subject "C=US, O=SPIRE" with CN = the
//     first DNS name (what `spire-server entry create -dns root` produces,
//     and what CockroachDB and PostgreSQL take as the SQL user), serverAuth
//     and clientAuth, NotBefore 10 s in the past, NotAfter capped at the CA's.
//   - FetchX509SVID streams: the current SVIDs at once, then a fresh
//     response on every rotation. Rotation happens at half the TTL, or at
//     once on Issuer.Rotate.
//
// What it does not do: JWT-SVIDs (the JWT methods answer Unimplemented),
// federation, CA rotation (the CA is persisted in Config.Dir so restarts keep
// the bundle the database trusts) and selectors other than the UID.
package spiffeissuer
