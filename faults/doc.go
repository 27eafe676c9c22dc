// Package faults holds what the fault tests need beyond the stack's own
// controls (RestartPostgres, HAProxyCommand, stopping the KDC or a built-in
// server): a PostgreSQL wire proxy that makes a COMMIT's outcome unknown to
// the client, and the bank invariants checked with SQL of its own, so that
// a test does not prove authbench right with authbench's code.
//
// The proxy sits between the driver and the load balancer. TLS runs end to
// end from the driver to PostgreSQL, so the proxy ends it with the stack's
// own server certificate (the one PostgreSQL presents, which keeps SCRAM
// channel binding valid) and opens a second TLS connection upstream. In
// between it reads the frontend protocol message by message: on a chosen
// connection it forwards a COMMIT, waits for the server's CommandComplete —
// the transaction is now durable — and closes both sides instead of
// relaying it. The client sees the connection drop with the outcome
// unknown, which is exactly what a retry after an ambiguous commit must
// survive.
package faults
