package stack

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// AdminConnConfig returns a connection config for AdminUser to the
// benchmark database: directly to PostgreSQL on 127.0.0.1 (not through
// HAProxy, so admin work still succeeds while a fault test has disabled the
// backend), TLS verify-full, client certificate authentication.
func (s *State) AdminConnConfig() (*pgx.ConnConfig, error) {
	cfg, err := s.AdminConnConfigAt("127.0.0.1", s.PGPort, "authbench-stack")
	if err != nil {
		return nil, fmt.Errorf("admin connection config: %w", err)
	}
	return cfg, nil
}

// AdminConnConfigAt is AdminUser's connection to the benchmark database at
// host:port (for example through the load balancer), named app: TLS
// verify-full, client certificate authentication.
func (s *State) AdminConnConfigAt(host string, port int, app string) (*pgx.ConnConfig, error) {
	crt, key := s.ClientCertFiles(s.AdminUser)
	cfg, err := pgx.ParseConfig(ConnString(
		"host", host, "port", strconv.Itoa(port), "dbname", s.Database,
		"user", s.AdminUser, "sslmode", "verify-full", "sslrootcert", s.CAFile,
		"sslcert", crt, "sslkey", key, "connect_timeout", "10",
		"application_name", app,
	))
	if err != nil {
		return nil, err
	}
	// Verified as LBHost at any address: the server's certificate may be
	// an X509-SVID, which names hosts only by DNS name (see ServerTLS).
	if cfg.TLSConfig != nil {
		cfg.TLSConfig.ServerName = s.LBHost
	}
	for _, fb := range cfg.Fallbacks {
		if fb.TLSConfig != nil {
			fb.TLSConfig.ServerName = s.LBHost
		}
	}
	return cfg, nil
}

// ExecAdmin runs one statement as AdminUser in the benchmark database.
func (s *State) ExecAdmin(ctx context.Context, sql string, args ...any) error {
	conn, err := s.ConnectAdmin(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("admin statement failed: %w", err)
	}
	return nil
}

// ConnString builds a libpq key/value connection string from key, value
// pairs, quoting every value so paths with spaces or quotes survive.
func ConnString(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		v := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(kv[i+1])
		fmt.Fprintf(&b, "%s='%s'", kv[i], v)
	}
	return b.String()
}
