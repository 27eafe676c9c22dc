package postgres

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"path/filepath"
	"syscall"

	"github.com/jackc/pgx/v5"

	"github.com/authbench/authbench/internal/proc"
	"github.com/authbench/authbench/stack"
)

// The stack component "postgres": PostgreSQL 15 with TLS and strict
// pg_hba rules in DIR/pg, the benchmark database, its roles and their
// passwords. It writes its configuration from what the other components
// contributed to the State (users, pg_hba and postgresql.conf lines, client
// CAs) and offers the database to them as stack.Database. Its paths are
// its section of state.json (State); its port is the core's PGPort, which
// HAProxy's backend and the core's admin connection use.

// Name is the component's name.
const Name = "postgres"

// PostgreSQL starts after the others prepared (Start phase), stops after
// everything that uses it, and is the first line of `stack status`.
func init() {
	stack.RegisterOrdered(stack.Order{Start: 50, Stop: 90, Status: -20}, component{})
}

// State is PostgreSQL's section of state.json. Its keys are those of the
// top-level fields of earlier versions' files, which it is read from when
// a stack has no section yet (stack.BaseSection).
type State struct {
	// DataDir is the data directory.
	DataDir string `json:"pg_data_dir"`
	// LogFile is the server's log.
	LogFile string `json:"pg_log_file"`
	// ClientCAFile is ssl_ca_file: the CA plus the contributed client CAs.
	ClientCAFile string `json:"client_ca_file"`
}

// Of returns st's PostgreSQL section (nil before the first Up).
func Of(st *stack.State) *State { return stack.BaseSection[State](st, Name) }

// files returns the section of a new stack in st.Dir.
func files(st *stack.State) *State {
	pg := filepath.Join(st.Dir, "pg")
	return &State{
		DataDir: filepath.Join(pg, "data"), LogFile: filepath.Join(pg, "postgres.log"),
		ClientCAFile: filepath.Join(st.CertsDir, "client-ca-bundle.crt"),
	}
}

// cluster is a State seen as PostgreSQL's cluster.
type cluster struct {
	*stack.State
	pg *State
}

// view returns st as PostgreSQL's cluster; before the first Up, its files
// are where Up puts them.
func view(st *stack.State) cluster {
	pg := Of(st)
	if pg == nil || pg.DataDir == "" {
		pg = files(st)
	}
	return cluster{st, pg}
}

type component struct{}

func (component) Name() string { return Name }

// Merge gives a new stack its PostgreSQL section and the connection limit
// cfg asks for.
func (component) Merge(cfg stack.Config, s *stack.State) {
	pg := Of(s)
	if pg == nil || pg.DataDir == "" {
		pg = files(s)
		stack.SetSection(s, Name, pg)
	}
	mergeLimits(cfg, s)
}

// Enabled: every stack has PostgreSQL.
func (component) Enabled(*stack.State) bool { return true }

// Check fails when PostgreSQL 15 is missing or its user cannot reach dir.
func (component) Check(dir string) error {
	if _, err := findBinaries(); err != nil {
		return err
	}
	_, err := pgRunner(dir)
	return err
}

func (component) Prepare(context.Context, *stack.State, io.Writer) error { return nil }

// Start creates the cluster if needed, writes its configuration, starts or
// reloads it and creates the database and every user's role.
func (component) Start(ctx context.Context, s *stack.State, log io.Writer) error {
	b, pu, err := tools(s.Dir)
	if err != nil {
		return err
	}
	c := view(s)
	if err := c.upPostgres(ctx, b, pu, log); err != nil {
		return err
	}
	return c.bootstrap(ctx, log)
}

func (component) Finish(context.Context, *stack.State, io.Writer) error { return nil }

// Stop stops PostgreSQL; without pg_ctl or the postgres user it signals.
func (component) Stop(s *stack.State, log io.Writer) error {
	b, _ := findBinaries() // without pg_ctl, stopPostgres signals directly
	pu, err := pgRunner(s.Dir)
	if err != nil {
		pu = &pgUser{} // cannot run pg_ctl as postgres: signals still work
		b.pgCtl = ""
	}
	return view(s).stopPostgres(b, pu, log)
}

func (component) Status(s *stack.State) []stack.ComponentStatus {
	pid := view(s).postgresPID()
	return []stack.ComponentStatus{{Name: Name, PID: pid, Address: stack.HostPort("127.0.0.1", s.PGPort), Running: proc.Alive(pid),
		Detail: fmt.Sprintf("max_connections=%d", MaxConnections(s))}}
}

// Env: the first password user and its password file (the database and
// the admin are the core's AUTHBENCH_DATABASE and AUTHBENCH_ADMIN_USER).
func (component) Env(s *stack.State) []stack.EnvVar {
	u, _ := s.FirstUser(stack.MethodPassword)
	return []stack.EnvVar{{Name: "AUTHBENCH_PASSWORD_USER", Value: u.Name}, {Name: "AUTHBENCH_PASSWORD_FILE", Value: s.PasswordFile}}
}

// ConnectAdmin connects as AdminUser to database db.
func (component) ConnectAdmin(ctx context.Context, s *stack.State, db string) (*pgx.Conn, error) {
	return connectAdmin(ctx, s, db)
}

// EnsureRole creates role name with options unless it exists.
func (component) EnsureRole(ctx context.Context, conn *pgx.Conn, name, options string) error {
	return ensureRole(ctx, conn, name, options)
}

// SyncUser sets up u's role and credentials and reloads pg_hba.conf.
func (component) SyncUser(ctx context.Context, s *stack.State, u stack.User) error {
	return view(s).syncUser(ctx, u)
}

// Restart restarts PostgreSQL with a fast shutdown.
func (component) Restart(ctx context.Context, s *stack.State) error {
	b, pu, err := tools(s.Dir)
	if err != nil {
		return err
	}
	return view(s).startPostgres(ctx, b, pu, "restart")
}

// SignalReload sends the postmaster SIGHUP, which makes it re-read its
// configuration and, for new connections, its certificate and key.
func (component) SignalReload(s *stack.State) error {
	pid := view(s).postgresPID()
	if !proc.Alive(pid) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("signal postgresql (pid %d) to reload: %w", pid, err)
	}
	return nil
}

// FileOwner is the user PostgreSQL runs as, when it is not the current one.
func (component) FileOwner(s *stack.State) (*stack.Owner, error) {
	pu, err := pgRunner(s.Dir)
	if err != nil {
		return nil, err
	}
	return pu.owner(), nil
}

// SetUpUser gives a password user the password in its file.
func (component) SetUpUser(ctx context.Context, s *stack.State, conn *pgx.Conn, u stack.User) error {
	if u.Method != stack.MethodPassword {
		return nil
	}
	return view(s).ensurePassword(ctx, conn, u.Name)
}

// RotatesMode: PostgreSQL rotates passwords.
func (component) RotatesMode(mode string) bool { return mode == stack.MethodPassword }

// Rotate sets a new random password, then writes it to the file the
// password mode reads; a connection made in between fails once and is
// retried by the driver.
func (component) Rotate(ctx context.Context, s *stack.State, user string) (string, error) {
	conn, err := connectAdmin(ctx, s, s.Database)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	password := rand.Text()
	if err := setPassword(ctx, conn, user, password); err != nil {
		return "", err
	}
	if err := stack.WriteFileAtomic(s.UserPasswordFile(user), []byte(password), 0o600, nil); err != nil {
		return "", err
	}
	return "new password for " + user, nil
}

// connectAdmin connects as AdminUser to database db.
func connectAdmin(ctx context.Context, s *stack.State, db string) (*pgx.Conn, error) {
	cfg, err := s.AdminConnConfig()
	if err != nil {
		return nil, err
	}
	cfg.Database = db
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgresql as %s: %w (is the stack up? see %s)", s.AdminUser, err, view(s).pg.LogFile)
	}
	return conn, nil
}
