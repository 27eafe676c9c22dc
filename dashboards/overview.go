package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/common"

// overview is throughput, latency, errors, retries and connections, with
// fault events and ambiguous commits marked.
func overview() *board {
	b := newBoard("authbench-overview", "authbench / Overview",
		"Throughput, latency percentiles, errors, retries and connections of authbench runs; fault events and ambiguous commits are annotations.")
	faultAnnotations(b)
	b.series("Throughput", "Successful ops per second, by op and auth mode (warm-up included).", "ops", half,
		query(rate("op, auth_mode", "authbench_ops_total"), "{{op}} {{auth_mode}}"))
	b.series("Latency percentiles", "p50, p95 and p99 of successful ops, from the intended start in an open loop (--max-rate), so a stalled database cannot hide behind coordinated omission.", "s", half,
		query(quantile("0.5", "op, auth_mode", "authbench_op_latency_seconds"), "p50 {{op}} {{auth_mode}}"),
		query(quantile("0.95", "op, auth_mode", "authbench_op_latency_seconds"), "p95 {{op}} {{auth_mode}}"),
		query(quantile("0.99", "op, auth_mode", "authbench_op_latency_seconds"), "p99 {{op}} {{auth_mode}}"))
	errorsByClass(b, "Failed ops per second by class (retryable: after the last retry; connection, auth, timeout, other), and the failed attempts that a retry then hid, by class.")
	b.series("Retries", "Retried attempts and transactions that needed a retry (SQLSTATE 40001/40P01 or a lost connection), and transactions that failed after the last retry.", "ops", half,
		query(rate("op, auth_mode", "authbench_retries_total"), "retries {{op}} {{auth_mode}}"),
		query(rate("op, auth_mode", "authbench_retried_transactions_total"), "retried transactions {{op}} {{auth_mode}}"),
		query(rate("op, auth_mode", "authbench_errors_total", `class="retryable"`), "failed after max retries {{op}} {{auth_mode}}"))
	b.series("Service time percentiles", "p50 and p99 from the actual start of each op; equal to the latency in a closed loop, below it in an open loop when the driver falls behind.", "s", half,
		query(quantile("0.5", "op, auth_mode", "authbench_op_service_time_seconds"), "p50 {{op}} {{auth_mode}}"),
		query(quantile("0.99", "op, auth_mode", "authbench_op_service_time_seconds"), "p99 {{op}} {{auth_mode}}"))
	b.series("Mean latency", "Mean latency of successful ops.", "s", half,
		query(rate("op, auth_mode", "authbench_op_latency_seconds_sum")+" / "+rate("op, auth_mode", "authbench_op_latency_seconds_count"), "{{op}} {{auth_mode}}"))
	b.series("Retried share", "Share of successful transactions that needed at least one retry.", "percentunit", half,
		query(rate("op, auth_mode", "authbench_retried_transactions_total")+" / "+rate("op, auth_mode", "authbench_ops_total"), "{{op}} {{auth_mode}}"))
	b.series("Workers and target rate", "Workers (--concurrency) and the open-loop target (--max-rate; 0 = closed loop).", "short", half,
		query(`sum by (auth_mode) (authbench_workers`+sel()+`)`, "workers {{auth_mode}}"),
		query(`sum by (auth_mode) (authbench_target_rate`+sel()+`)`, "target ops/s {{auth_mode}}"))
	b.series("Connections per second", "Connections opened (handshake complete), failed and closed (retired) per second.", "short", half,
		query(rate("auth_mode", "authbench_connections_opened_total"), "opened {{auth_mode}}"),
		query(rate("auth_mode", "authbench_connections_failed_total"), "failed {{auth_mode}}"),
		query(rate("auth_mode", "authbench_connections_closed_total"), "closed {{auth_mode}}"))
	openConnections(b)
	b.series("Fault events and ambiguous commits", "Fault events so far (errors after at least 3 s without) and transactions whose COMMIT reply was lost, so that the database may hold them; both are also annotations.", "short", full,
		query(`sum by (auth_mode) (authbench_fault_events_total`+sel()+`)`, "fault events {{auth_mode}}"),
		query(`sum by (auth_mode, op) (authbench_ambiguous_commits_total`+sel()+`)`, "ambiguous commits {{op}} {{auth_mode}}")).
		LineInterpolation(common.LineInterpolationStepAfter)
	return b
}

// errorsByClass adds the errors panel: failed ops and retried failures.
func errorsByClass(b *board, description string) {
	b.series("Errors by class", description, "ops", half,
		query(rate("class, auth_mode", "authbench_errors_total"), "failed {{class}} {{auth_mode}}"),
		query(rate("class, auth_mode", "authbench_retried_errors_total"), "retried {{class}} {{auth_mode}}"))
}

// openConnections adds the panel of connections open now.
func openConnections(b *board) {
	b.series("Open connections", "Connections open: opened minus closed so far (the pool closes broken connections too).", "short", half,
		query(`sum by (auth_mode) (authbench_connections_opened_total`+sel()+`) - sum by (auth_mode) (authbench_connections_closed_total`+sel()+`)`, "open {{auth_mode}}"))
}

// faultAnnotations marks fault events and ambiguous commits.
func faultAnnotations(b *board) {
	b.Annotation(annotation("Fault events", "red", increased("auth_mode", "authbench_fault_events_total"),
		"fault: errors began", "{{auth_mode}}", "auth_mode", true))
	b.Annotation(annotation("Ambiguous commits", "purple", increased("auth_mode, op", "authbench_ambiguous_commits_total"),
		"ambiguous commit ({{op}})", "{{auth_mode}}", "auth_mode,op", true))
}
