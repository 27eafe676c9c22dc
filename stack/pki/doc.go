// Package pki is the local stack's certificate authority and its component
// "pki": one ECDSA P-256 CA kept in a directory, the server and client
// certificates it issues (component.go: PostgreSQL's server certificate,
// the admin's and every cert user's client certificate, cert rotation).
//
// Every file is written atomically (stack.WriteFileAtomic: temp file in the
// same directory, fsync, chmod, rename), so a process that re-reads a
// client certificate on every new connection sees either the old pair or
// the new one, never a torn file, while the certificates rotate. Private
// keys are always mode 0600.
package pki
