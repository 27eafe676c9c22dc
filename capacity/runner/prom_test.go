package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/authbench/authbench/capacity"
	"github.com/authbench/authbench/results"
)

func TestMetricsFollowTheStep(t *testing.T) {
	o, _ := capacity.ParseObjective("p99<=50ms,errors<=0.1%")
	preg := prometheus.NewRegistry()
	m, err := NewMetrics(preg, "bank", "tx/s", o)
	if err != nil {
		t.Fatal(err)
	}
	reg := results.NewRegistry([]string{"transfer"}, true, time.Now())
	m.startStep(reg, "cert", 3, 425, 16)
	m.startStep(reg, "password", 1, 250, 16) // the next mode replaces the first
	want := `
# HELP authbench_capacity_offered_rate Open-loop rate offered by the capacity step now running, per second (0 during the closed-loop probe).
# TYPE authbench_capacity_offered_rate gauge
authbench_capacity_offered_rate{auth_mode="password",unit="tx/s",workload="bank"} 250
# HELP authbench_capacity_objective_latency_seconds Latency bound of the capacity objective, per statistic.
# TYPE authbench_capacity_objective_latency_seconds gauge
authbench_capacity_objective_latency_seconds{statistic="p99",unit="tx/s",workload="bank"} 0.05
# HELP authbench_capacity_objective_errors Error budget of the capacity objective: a ratio of transactions or a count per step.
# TYPE authbench_capacity_objective_errors gauge
authbench_capacity_objective_errors{kind="ratio",unit="tx/s",workload="bank"} 0.001
`
	if err := testutil.GatherAndCompare(preg, strings.NewReader(want),
		"authbench_capacity_offered_rate", "authbench_capacity_objective_latency_seconds", "authbench_capacity_objective_errors"); err != nil {
		t.Error(err)
	}
	// The running step's own metrics are there, labelled with its mode.
	if n, err := testutil.GatherAndCount(preg, "authbench_target_rate"); err != nil || n != 1 {
		names, _ := preg.Gather()
		t.Errorf("step metrics: %d authbench_target_rate (%v); families %d", n, err, len(names))
	}
	if problems, err := testutil.GatherAndLint(preg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
}
