package driver

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// nopCloser is the credential source of a fleet whose pools need none of
// their own (TLS client certificates read by pgx).
type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// stackCertConfig returns a pool config for the local stack's certificate
// user from `authbench stack env`'s variables, or skips b without them.
func stackCertConfig(b *testing.B) func(context.Context, int) (*pgxpool.Config, io.Closer, error) {
	host, port, dir, user := os.Getenv("AUTHBENCH_HOST"), os.Getenv("AUTHBENCH_PORT"), os.Getenv("AUTHBENCH_CERTS_DIR"), os.Getenv("AUTHBENCH_CERT_USER")
	if host == "" || port == "" || dir == "" || user == "" {
		b.Skip(`needs a local stack holding 2,100 connections: authbench stack up --max-connections 2100 && eval "$(authbench stack env)"`)
	}
	dsn := fmt.Sprintf("host=%s port=%s dbname=authbench user=%s sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s",
		host, port, user, os.Getenv("AUTHBENCH_CA"), filepath.Join(dir, "client."+user+".crt"), filepath.Join(dir, "client."+user+".key"))
	return func(context.Context, int) (*pgxpool.Config, io.Closer, error) {
		cfg, err := pgxpool.ParseConfig(dsn)
		return cfg, nopCloser{}, err
	}
}

// BenchmarkFleetIdleConnections opens a fleet of 100 instances × 20
// TLS client-certificate connections to the local stack, leaves them idle
// (the fleet's sweeper running, as in a run) and reports the driver's heap
// and goroutine stacks per open connection, its goroutines per connection
// beyond those it had before, and the CPU it spends per second of idling.
// Run it with -benchtime 1x: every iteration is one whole measurement.
func BenchmarkFleetIdleConnections(b *testing.B) {
	open := stackCertConfig(b)
	const instances, poolSize, idle = 100, 20, 10 * time.Second
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		before, goBefore := inUse(), runtime.NumGoroutine()
		f, err := OpenFleet(ctx, FleetSpec{Instances: instances, PoolSize: poolSize, Open: open})
		if err != nil {
			b.Fatal(err)
		}
		fillCtx, stopFill := context.WithTimeout(ctx, 2*time.Minute)
		err = f.Fill(fillCtx, 100*time.Millisecond)
		stopFill()
		if err != nil {
			f.Close()
			b.Fatal(err)
		}
		go f.Sweep(ctx, time.Second)
		cpu0, t0 := cpuTime(), time.Now()
		time.Sleep(idle) // idling is what is measured
		cpu := cpuTime() - cpu0
		elapsed := time.Since(t0)
		n := float64(f.OpenConns())
		b.ReportMetric(float64(inUse()-before)/1024/n, "KiB/conn")
		b.ReportMetric(float64(runtime.NumGoroutine()-goBefore)/n, "goroutines/conn")
		b.ReportMetric(float64(cpu.Microseconds())/1000/elapsed.Seconds(), "cpu-ms/s")
		b.ReportMetric(n, "conns")
		cancel()
		f.Close()
	}
}

// inUse is the heap and goroutine stacks in use after a collection.
func inUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
