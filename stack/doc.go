// Package stack is the core of the local stack: PostgreSQL 15 with TLS and
// strict pg_hba rules, HAProxy in TCP mode in front of it, the PKI they use
// and the components that plug into it, all on loopback under one state
// directory with free ports. The core only orchestrates; every server is a
// component.
//
// # The map
//
//	stack/                 the core: Up, Down, Status, Env, State (state.json),
//	                       locking, the Component interface and its registry,
//	                       the contributions API, WriteFileAtomic
//	stack/pki/             component "pki": the CA and certificate library, the
//	                       server, admin and cert users' certificates, cert rotation
//	stack/postgres/        component "postgres": PostgreSQL (initdb, config,
//	                       roles, passwords, password rotation); the DatabaseServer
//	stack/haproxy/         component "haproxy": HAProxy, its runtime API; the LoadBalancer
//	stack/kdc/             component "kerberos": MIT KDC, keytabs, gss users
//	stack/spiffe/          component "spiffe": a real SPIRE server and agent
//	  spire/               runs them (configuration, processes, the server's CLI)
//	  spirebin/            finds (PATH, else the cache) and builds their binaries
//	stack/vault/           component "vault": the credential server (real.go:
//	  vaultsrv/            a real vault/bao); its built-in stand-in (`stack serve-vault`)
//	stack/prometheus/      component "prometheus": Prometheus scraping the driver
//	stack/all/             imports every component, registering them
//	stack/stacktest/       test harness: a throwaway stack per test (registers
//	                       the base: pki, postgres, haproxy)
//	internal/proc/         process supervision for every server above
//
// # Components
//
// A Component is a package under stack/ that registers itself from init
// with Register (one order) or RegisterOrdered (its place in the start,
// stop and status sequences). It owns everything about itself: its
// settings (Config.Enable), its section of state.json (Section,
// SetSection: one top-level key per component, as in earlier versions'
// files), its `stack up` flags (FlagOwner), its built-in server's entry
// point (Server: `authbench stack serve-<name>`), its status lines, its
// `stack env` variables and its part of credential rotation (Rotator).
//
// State's own fields are what is not one component's: where clients
// connect and as whom, which every client, the core's admin connection and
// several components read. They are the load balancer's address (LBHost,
// LBPort, LBIPv6, reserved together so the port is free on both
// loopbacks), PostgreSQL's port (HAProxy's backend and the core's admin
// connection, which never import postgres), the database, the CA every
// client verifies the server with, the users and where their credentials
// are (CertsDir, SecretsDir, PasswordFile: issued by pki and postgres, read
// by clients, vault and the core), the admin user and the contributions.
// The base components (pki, postgres, haproxy) keep the rest: postgres its
// data dir, log and client CA bundle, haproxy its stats port and files
// (pki has nothing of its own to record). Files of earlier versions kept
// those at the top level; BaseSection reads them from there.
//
// Components never import each other: they contribute to the stack only
// through State (AddUser, AddHBA, AddPGConf, AddClientCA, EnsureRole,
// ConnectAdmin, GiveToPostgres), and the core asks them by role: the
// DatabaseServer (postgres) connects as admin, makes roles and syncs users;
// Credentials components (pki: certificates, postgres: passwords) set up
// each user's credential when the database makes its role; the
// LoadBalancer (haproxy) answers HAProxyCommand. The core runs them:
//
//	Up:     Check (all) → Merge (all) → save → Prepare (enabled, start
//	        order: pki issues, kdc starts) → save → Start (Starters:
//	        postgres, then haproxy) → Finish (vault, prometheus)
//	Down:   Stop in stop order (prometheus, vault, spiffe, kdc, haproxy,
//	        postgres): what uses the database stops before it
//	Status: status order (postgres, haproxy, kdc, spiffe, vault, prometheus)
//
// Adding a component: a new package stack/<name> with a type implementing
// Component (plus FlagOwner, Server, Rotator, Starter as it needs), an
// init that calls Register, and one blank import in stack/all. The CLI,
// `stack status`, `stack env` and `stack down` pick it up from the
// registry.
//
// # Errors
//
// Problems the user fixes by running a stack command are *StackError values
// wrapping ErrNoStack, ErrNotRunning, ErrComponentOff, ErrCorruptState,
// ErrStaleFile or ErrInUse; the CLI adds which command to run. No package
// here names a command in an error.
//
// # The state directory
//
//	state.json           where to connect, users (State) and one section per component
//	certs/               CA, server and client certificates (keys 0600)
//	secrets/             password.<user> files (0600)
//	pg/data, pg/postgres.log
//	haproxy/haproxy.cfg, haproxy.pid, admin.sock, haproxy.log
//	<component>/         each component's files, <name>.pid and <name>.log
//
// Up is idempotent and records the result in state.json (no secrets
// inside); Down stops every process it started. The servers are detached
// from the calling process, so `authbench stack up` can return while they
// keep running. When run as root, PostgreSQL runs as the `postgres` system
// user, which owns dir/pg and the server key; every ancestor of the state
// directory must be traversable by that user.
package stack
