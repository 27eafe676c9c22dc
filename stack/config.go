package stack

import "maps"

// Fixed names of the local stack.
const (
	// LBHost is the host name clients use to reach the load balancer.
	LBHost = "localhost"
	// Database is the database the benchmark runs in.
	Database = "authbench"
	// AdminUser is the PostgreSQL superuser; it logs in with a client cert.
	AdminUser = "authbench_admin"
	// RWRole is the NOLOGIN role every bench user is a member of.
	RWRole = "authbench_rw"
	// CACommonName is the Subject CN of the stack's CA.
	CACommonName = "authbench CA"
)

// Authentication methods a User can have.
const (
	// MethodCert authenticates with a TLS client certificate (CN = user).
	MethodCert = "cert"
	// MethodPassword authenticates with SCRAM-SHA-256.
	MethodPassword = "password"
	// MethodGSS authenticates with Kerberos; its pg_hba line comes from
	// Config.ExtraHBA.
	MethodGSS = "gss"
)

// Config says what Up builds.
type Config struct {
	// Dir is the state directory (the CLI's default is ".stack").
	Dir string
	// Users are the SQL roles to create; empty means DefaultUsers().
	Users []User
	// ExtraHBA lines are appended to pg_hba.conf before the final reject
	// lines (for example gss lines).
	ExtraHBA []string
	// ExtraPGConf lines are appended to postgresql.conf (for example
	// krb_server_keyfile).
	ExtraPGConf []string
	// ExtraClientCAs are PEM files appended to PostgreSQL's ssl_ca_file
	// (for example a SPIFFE trust bundle) by this Up only.
	ExtraClientCAs []string
	// ClientCAs are PEM files PostgreSQL trusts client certificates of from
	// now on: every later Up keeps them (`stack up --client-ca`, for
	// example the bundle of a SPIRE the stack does not run).
	ClientCAs []string
	// Exe is the authbench binary that runs the built-in servers
	// (`authbench stack serve-…`); the CLI passes its own path.
	Exe string
	// PreferBuiltin makes a component that could run a real server found on
	// PATH (vault or bao) run its built-in stand-in unless its settings name
	// one; the test harness sets it, so that a test gets the server it asks
	// for whatever is installed.
	PreferBuiltin bool
	// components holds the settings of the components Enable asked for.
	components map[string]any
}

// User is a SQL role and how it authenticates.
type User struct {
	// Name is the role name.
	Name string `json:"name"`
	// Method is MethodCert, MethodPassword, MethodGSS or another method
	// whose pg_hba line the caller supplies through Config.ExtraHBA.
	Method string `json:"method"`
}

// DefaultUsers returns one certificate user and one password user.
func DefaultUsers() []User {
	return []User{
		{Name: "bench_cert", Method: MethodCert},
		{Name: "bench_password", Method: MethodPassword},
	}
}

// Enable asks Up for the component name with its settings (the type its
// package defines, e.g. kdc.Settings); Up keeps a component a stack has
// once it has it.
func (c *Config) Enable(name string, settings any) {
	// A copy of a Config must not see what is enabled on the original.
	c.components = maps.Clone(c.components)
	if c.components == nil {
		c.components = map[string]any{}
	}
	c.components[name] = settings
}

// Settings returns the settings Enable gave the component name, and
// whether it was asked for.
func (c Config) Settings(name string) (any, bool) {
	v, ok := c.components[name]
	return v, ok
}

// NeedsExe reports whether a component cfg asks for runs a built-in
// server, so cfg.Exe must be set.
func (c Config) NeedsExe() bool {
	for name := range c.components {
		if comp, ok := Lookup(name); ok {
			if _, ok := comp.(Server); ok {
				return true
			}
		}
	}
	return false
}

// HAProxy names used in the runtime API, e.g. "disable server pg/pg1".
const (
	// HAProxyBackend is the backend holding the database servers.
	HAProxyBackend = "pg"
	// HAProxyServer is the PostgreSQL server's name in HAProxyBackend.
	HAProxyServer = "pg1"
)
