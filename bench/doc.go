// Package bench measures authbench against pgbench, the reference every
// PostgreSQL user trusts, on one local stack, through the load balancer,
// with the same auth mode, clients and duration:
//
//   - throughput: pgbench running a script that is the bank transfer versus
//     `authbench run bank`: TPS and CPU time per committed transaction;
//   - shapes: every transaction style (`run bank --txn-style`) versus pgbench
//     running the style's statements in the same round trips, its script
//     written from the workload's own: TPS, CPU per transaction and per
//     round trip;
//   - handshake: `pgbench -C` with a select-only script versus
//     `authbench handshake`: connections per second and connection time;
//   - open loop: `pgbench -R` versus `authbench run --max-rate` at a fraction
//     of the measured maximum: p99 latency from the intended start;
//   - floor (not in the default): the style's pgbench script versus
//     authbench and the cheapest Go clients of package bench/floor (pgconn
//     with prepared statements; pre-encoded protocol bytes), each in the
//     environments asked for (e.g. GOMAXPROCS=1): what a round trip costs
//     in Go at all on this machine.
//
// Each pair runs back to back, several times in alternating order; the
// report holds the median ratio authbench/pgbench and its spread. Run
// starts the stack, runs every pair and writes bench.md and bench.json;
// bench/cmd/benchcmp is the command behind `make bench`.
package bench
