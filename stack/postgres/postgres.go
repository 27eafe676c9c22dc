package postgres

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/authbench/authbench/internal/proc"
	"github.com/authbench/authbench/stack"
)

// upPostgres creates the cluster if needed, (re)writes its configuration
// and starts it unless it runs; a running server reloads changed files.
func (s cluster) upPostgres(ctx context.Context, b binaries, pu *pgUser, log io.Writer) error {
	if err := s.initdb(ctx, b, pu, log); err != nil {
		return err
	}
	restart := s.needsRestart()
	changed, err := s.writePGFiles(pu)
	if err != nil {
		return err
	}
	if pid := s.postgresPID(); proc.Alive(pid) {
		fmt.Fprintf(log, "postgres: already running (pid %d) on 127.0.0.1:%d\n", pid, s.PGPort)
		if restart {
			fmt.Fprintf(log, "postgres: restarting for %s\n", s.maxConnLine())
			return s.startPostgres(ctx, b, pu, "restart")
		}
		if !changed {
			return nil
		}
		fmt.Fprintln(log, "postgres: configuration changed, reloading")
		return s.reload(ctx, b, pu)
	}
	fmt.Fprintf(log, "postgres: starting on 127.0.0.1:%d (log %s)\n", s.PGPort, s.pg.LogFile)
	return s.startPostgres(ctx, b, pu, "start")
}

// initdb creates the cluster with the admin as bootstrap superuser and no
// way in but the pg_hba.conf written later (--auth=reject: no trust, ever).
// It builds in a side directory and renames it, so a failed initdb leaves
// nothing half-made behind.
func (s cluster) initdb(ctx context.Context, b binaries, pu *pgUser, log io.Writer) error {
	if exists(filepath.Join(s.pg.DataDir, "PG_VERSION")) {
		return nil
	}
	if exists(s.pg.DataDir) {
		return fmt.Errorf("%s is not a PostgreSQL data directory: remove it and run stack up again", s.pg.DataDir)
	}
	if err := os.MkdirAll(s.pgDir(), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", s.pgDir(), err)
	}
	if err := pu.chownTree(s.pgDir()); err != nil {
		return err
	}
	tmp := s.pg.DataDir + ".initdb"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove leftover %s: %w", tmp, err)
	}
	fmt.Fprintf(log, "postgres: initdb %s\n", s.pg.DataDir)
	cmd := proc.Command(ctx, pu.cred, s.pgDir(), b.initdb, "-D", tmp, "-U", s.AdminUser,
		"--auth=reject", "--encoding=UTF8", "--locale=C")
	if err := proc.Run(cmd, "initdb"); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.pg.DataDir); err != nil {
		return fmt.Errorf("move new cluster into place: %w", err)
	}
	return s.includePGConf()
}

// startPostgres runs pg_ctl start or restart and waits until it accepts
// connections.
func (s cluster) startPostgres(ctx context.Context, b binaries, pu *pgUser, action string) error {
	cmd := s.pgCtl(ctx, b, pu, action, "-l", s.pg.LogFile, "-m", "fast", "-w", "-t", "60", "-s")
	if err := proc.Run(cmd, "pg_ctl "+action); err != nil {
		if line := proc.FileTail(s.pg.LogFile); line != "" {
			return fmt.Errorf("postgresql did not %s: %s (see %s)", action, line, s.pg.LogFile)
		}
		return err
	}
	return nil
}

// stopPostgres stops the server with a fast shutdown and makes sure the
// postmaster is gone, killing its process group as a last resort.
func (s cluster) stopPostgres(b binaries, pu *pgUser, log io.Writer) error {
	pid := s.postgresPID()
	if !proc.Alive(pid) {
		return nil
	}
	fmt.Fprintf(log, "postgres: stopping (pid %d)\n", pid)
	start := time.Now()
	if b.pgCtl == "" {
		proc.Kill(pid, syscall.SIGINT) // what pg_ctl stop -m fast sends
	} else if err := proc.Run(s.pgCtl(context.Background(), b, pu, "stop", "-m", "fast", "-w", "-t", "20", "-s"), "pg_ctl stop"); err != nil {
		fmt.Fprintf(log, "postgres: %v; killing pid %d\n", err, pid)
	}
	return proc.EnsureGone(pid, max(stack.StopTimeout-time.Since(start), time.Second))
}

// reloadPostgres makes a running server re-read its configuration files.
func (s cluster) reloadPostgres(ctx context.Context) error {
	if !proc.Alive(s.postgresPID()) {
		return nil
	}
	b, pu, err := tools(s.Dir)
	if err != nil {
		return err
	}
	return s.reload(ctx, b, pu)
}

// pgReloadTimeout bounds how long PostgreSQL may take to load its
// configuration after pg_ctl reload; generous for busy machines.
const pgReloadTimeout = 60 * time.Second

// reload runs pg_ctl reload and waits until new sessions see the new
// configuration: pg_ctl only sends SIGHUP, and a client connecting right
// after must meet the new pg_hba.conf.
func (s cluster) reload(ctx context.Context, b binaries, pu *pgUser) error {
	before, err := s.confLoadTime(ctx)
	if err != nil {
		return err
	}
	if err := proc.Run(s.pgCtl(ctx, b, pu, "reload", "-s"), "pg_ctl reload"); err != nil {
		return err
	}
	deadline := time.Now().Add(pgReloadTimeout)
	for {
		after, err := s.confLoadTime(ctx)
		if err != nil || after.After(before) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgresql did not reload its configuration within %s: see %s", pgReloadTimeout, s.pg.LogFile)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// confLoadTime returns when the configuration a new session gets was loaded.
func (s cluster) confLoadTime(ctx context.Context) (time.Time, error) {
	conn, err := connectAdmin(ctx, s.State, "postgres")
	if err != nil {
		return time.Time{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var t time.Time
	if err := conn.QueryRow(ctx, "SELECT pg_conf_load_time()").Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read configuration load time: %w", err)
	}
	return t, nil
}

// pgCtl builds a pg_ctl command for the data directory.
func (s cluster) pgCtl(ctx context.Context, b binaries, pu *pgUser, action string, args ...string) *exec.Cmd {
	return proc.Command(ctx, pu.cred, s.pgDir(), b.pgCtl, append([]string{action, "-D", s.pg.DataDir}, args...)...)
}

// postgresPID returns the postmaster's pid from postmaster.pid (0: none).
func (s cluster) postgresPID() int {
	return proc.ReadPID(filepath.Join(s.pg.DataDir, "postmaster.pid"))
}

func (s cluster) pgDir() string { return filepath.Dir(s.pg.DataDir) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
