// Package pki is the local stack's certificate authority: one ECDSA P-256
// CA kept in a directory, and the server and client certificates it issues.
//
// Every file is written atomically (temp file in the same directory, fsync,
// chmod, rename), so a process that re-reads a client certificate on every
// new connection sees either the old pair or the new one, never a torn file,
// while the certificates rotate. Private keys are always mode 0600.
package pki
