package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCapacityBadInput: an objective that does not parse, a zero
// threshold, a precision outside (0, 50%], an unknown mode or a mode that
// cannot connect each cost one line and exit 2 (usage) or 1, and no step
// is run: the output directory is never created.
func TestCapacityBadInput(t *testing.T) {
	fx := newBadFixture(t)
	dead := freeAddr(t)
	out := filepath.Join(t.TempDir(), "capacity")
	base := []string{"capacity", "bank", "--metrics-addr", "", "--out", out}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	cases := []badCase{
		{"unparsable objective", with("--slo", "p99<50ms"), 2, []string{"--slo", `"p99<50ms"`, "NAME<=VALUE", "p99<=50ms,errors<=0.1%"}},
		{"unknown statistic", with("--slo", "p98<=50ms"), 2, []string{"--slo", `unknown statistic "p98"`}},
		{"unparsable threshold", with("--slo", "p99<=fast"), 2, []string{"--slo", `"fast" is not a duration`}},
		{"zero latency threshold", with("--slo", "p99<=0ms"), 2, []string{"--slo", "must be above zero"}},
		{"zero error threshold", with("--slo", "p99<=50ms,errors<=0%"), 2, []string{"--slo", "must be above zero"}},
		{"zero precision", with("--precision", "0%"), 2, []string{"--precision must be a percentage in (0, 50%]", `"0%"`}},
		{"precision above 50%", with("--precision", "60%"), 2, []string{"--precision must be a percentage in (0, 50%]", `"60%"`}},
		{"unparsable precision", with("--precision", "tight"), 2, []string{"--precision must be a percentage", `"tight"`}},
		{"no steps", with("--max-steps", "0"), 2, []string{"--max-steps must be at least 1"}},
		{"unknown mode in the list", with("--auth", "cert,nosuch"), 2, []string{`unknown auth mode "nosuch"`}},
		{"bad conn mode", with("--conn-mode", "bogus"), 2, []string{"--conn-mode must be pool or per-txn"}},
		{"mode that cannot connect", with("--auth", "cert", "--ca", fx.ca, "--host", "127.0.0.1", "--port", dead.port, "--user", "bench_cert", "--certs-dir", fx.certs), 1,
			[]string{"auth mode cert: cannot connect", "connection refused", "is the database (or load balancer) up?"}},
		{"missing workload", []string{"capacity", "--slo", "p99<=50ms"}, 2, []string{"missing workload", "authbench capacity WORKLOAD"}},
	}
	runBad(t, cleanEnv(), cases)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("bad input created %s (err %v): no step may run", out, err)
	}
}
