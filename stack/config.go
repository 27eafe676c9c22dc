package stack

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
	// (for example a SPIFFE trust bundle).
	ExtraClientCAs []string
	// Exe is the authbench binary that runs the built-in servers
	// (`authbench stack serve-…`); the CLI passes its own path.
	Exe string
	// Kerberos, when not nil, adds an MIT KDC and gss users.
	Kerberos *KerberosConfig
	// SPIFFE, when not nil, adds a SPIFFE Workload API and SVID users.
	SPIFFE *SPIFFEConfig
	// Vault, when not nil, adds Vault (or the built-in credential server).
	Vault *VaultConfig
	// Prometheus, when not nil, adds a Prometheus scraping the driver.
	Prometheus *PrometheusConfig
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
