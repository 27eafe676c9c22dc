package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// authModes is what each authentication mode costs: handshake phases,
// handshakes, connections, failures, throughput and latency per mode.
func authModes() *board {
	b := newBoard("authbench-auth-modes", "authbench / Auth modes",
		"What each authentication mode costs: handshake phases, handshakes, connections, failures, throughput and latency per mode.")
	phases := "authbench_handshake_phase_seconds"
	b.WithPanel(bargauge.NewPanelBuilder().Id(b.nextID()).Title("Mean handshake by phase").
		Description("Mean duration of each handshake phase per auth mode since its run started: credential acquisition, TCP, TLS, authentication, first ReadyForQuery.").
		Datasource(datasource).Unit("s").Height(panelHeight).Span(full).
		Orientation(common.VizOrientationHorizontal).DisplayMode(common.BarGaugeDisplayModeGradient).ShowUnfilled(true).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Fields("").Values(false)).
		WithTarget(query(fmt.Sprintf("sum by (auth_mode, phase) (%s_sum%s) / sum by (auth_mode, phase) (%s_count%s)",
			phases, sel(`phase!="total"`), phases, sel(`phase!="total"`)), "{{auth_mode}} {{phase}}").RefId("A")))
	// Cumulative histograms: in pool mode a run opens its connections at
	// the start and rarely again, so a rate would mostly be empty.
	b.series("Handshake p50 and p99", "Median and p99 of the whole handshake per auth mode since its run started.", "s", half,
		query(fmt.Sprintf("histogram_quantile(0.5, sum by (le, auth_mode) (%s_bucket%s))", phases, sel(`phase="total"`)), "p50 {{auth_mode}}"),
		query(fmt.Sprintf("histogram_quantile(0.99, sum by (le, auth_mode) (%s_bucket%s))", phases, sel(`phase="total"`)), "p99 {{auth_mode}}"))
	b.series("Handshake p99 by phase", "p99 of each phase per auth mode since its run started.", "s", half,
		query(fmt.Sprintf("histogram_quantile(0.99, sum by (le, auth_mode, phase) (%s_bucket%s))", phases, sel(`phase!="total"`)), "{{auth_mode}} {{phase}}"))
	b.series("Handshakes", "Handshakes completed per second per auth mode.", "short", half,
		query(rate("auth_mode", phases+"_count", `phase="total"`), "{{auth_mode}}"))
	b.series("Connection failures and auth errors", "Failed connection attempts and ops that failed with an auth error, per auth mode.", "short", half,
		query(rate("auth_mode", "authbench_connections_failed_total"), "connections failed {{auth_mode}}"),
		query(rate("auth_mode", "authbench_errors_total", `class="auth"`), "auth errors {{auth_mode}}"))
	b.series("Throughput by auth mode", "Successful ops per second per auth mode.", "ops", half,
		query(rate("auth_mode", "authbench_ops_total"), "{{auth_mode}}"))
	b.series("Latency p99 by auth mode", "p99 latency of successful ops per auth mode.", "s", half,
		query(quantile("0.99", "auth_mode", "authbench_op_latency_seconds"), "{{auth_mode}}"))
	b.series("Connections opened per second", "Connections opened (handshake complete) per second per auth mode: how often each mode pays for a handshake.", "short", half,
		query(rate("auth_mode", "authbench_connections_opened_total"), "{{auth_mode}}"))
	openConnections(b)
	return b
}
