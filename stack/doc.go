// Package stack runs the local stack on loopback: a PKI, PostgreSQL 15 with
// TLS and strict pg_hba rules, and HAProxy in TCP mode in front of it, all
// under one state directory with free ports.
//
// Up starts what is down and records the result in dir/state.json (no
// secrets inside); Down stops every process it started; Load and Status
// read what is there. The servers are detached from the calling process, so
// `authbench stack up` can return while they keep running.
//
// Layout of the state directory:
//
//	state.json           ports, paths, users (State)
//	certs/               CA, server and client certificates (keys 0600)
//	secrets/             password.<user> files (0600)
//	pg/data, pg/postgres.log
//	haproxy/haproxy.cfg, haproxy.pid, admin.sock, haproxy.log
//
// When run as root, PostgreSQL runs as the `postgres` system user, which owns
// dir/pg and the server key; every ancestor of the state directory must be
// traversable by that user.
package stack
