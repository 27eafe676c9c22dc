package driver_test

import (
	"context"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/authbench/authbench/driver"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stack/stacktest"
	"github.com/authbench/authbench/workloads"
	_ "github.com/authbench/authbench/workloads/bank" // registers bank
	"github.com/authbench/authbench/workloads/workloadtest"
)

// BenchmarkTransferOnStack runs bank transfers through the driver, one
// worker, on a real connection to a stack of its own (PostgreSQL behind
// HAProxy, client-certificate TLS), in every transaction style: b.N
// transfers, so that -benchmem gives the allocations of one transfer
// (driver, workload, pgx) and -cpuprofile the client's CPU per transfer.
// With -short it is skipped, as every stack test.
func BenchmarkTransferOnStack(b *testing.B) {
	st := stacktest.Start(b)
	pool := workloadtest.Pool(b, stacktest.CertConnString(st, "bench_cert"), 1)
	workloadtest.Init(b, pool, "bank", "--accounts", "10000", "--initial-balance", "1000000000")
	for _, style := range []string{workloads.StylePipelined, workloads.StyleApp, workloads.StyleSingle} {
		b.Run(style, func(b *testing.B) {
			w := workloadtest.New(b, "bank")
			run := &workloads.RunInfo{TxnStyle: style}
			_, _ = rand.Read(run.RunID[:])
			if err := w.Prepare(context.Background(), pool, run); err != nil {
				b.Fatal(err)
			}
			r := &driver.Run{
				Config: driver.Config{Concurrency: 1, MaxOps: int64(b.N), MaxRetries: 30, DisplayEvery: time.Hour},
				DB:     pool, Workload: w, Out: io.Discard,
				Registry: results.NewRegistry(w.Ops(), false, time.Now()),
			}
			b.ReportAllocs()
			b.ResetTimer()
			if res := r.Execute(context.Background()); res.Err != nil {
				b.Fatal(res.Err)
			}
		})
	}
}
