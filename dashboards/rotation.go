package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/common"

// rotation is the load while credentials rotate, with rotations, credential
// events, fault events and ambiguous commits as annotations.
func rotation() *board {
	b := newBoard("authbench-rotation", "authbench / Rotation",
		"Throughput, errors and reconnections while credentials rotate under load; rotations, fault events and ambiguous commits are annotations.")
	b.Annotation(annotation("Rotations", "orange", increased("auth_mode, kind, source", "authbench_rotations_total"),
		"{{kind}} ({{source}})", "{{auth_mode}}", "auth_mode,kind,source", true))
	b.Annotation(annotation("Credential events", "blue", increased("auth_mode, kind, source", "authbench_events_total"),
		"{{kind}} ({{source}})", "{{auth_mode}}", "auth_mode,kind,source", false))
	faultAnnotations(b)
	b.series("Throughput and rotations", "Successful ops per second; the annotations mark credential rotations (authbench_rotations_total increased), fault events and ambiguous commits.", "ops", full,
		query(rate("auth_mode", "authbench_ops_total"), "{{auth_mode}}"))
	errorsByClass(b, "Failed ops per second by class around rotations, and the failed attempts that a retry then hid.")
	b.series("Latency p99", "p99 latency of successful ops around rotations.", "s", half,
		query(quantile("0.99", "auth_mode", "authbench_op_latency_seconds"), "{{auth_mode}}"))
	b.series("Rotations", "Credential rotations so far, by kind and source.", "short", half,
		query(`sum by (auth_mode, kind, source) (authbench_rotations_total`+sel()+`)`, "{{kind}} {{source}} ({{auth_mode}})")).
		LineInterpolation(common.LineInterpolationStepAfter)
	b.series("Reconnections", "Connections opened and closed per second: rotations retire connections.", "short", half,
		query(rate("auth_mode", "authbench_connections_opened_total"), "opened {{auth_mode}}"),
		query(rate("auth_mode", "authbench_connections_closed_total"), "closed {{auth_mode}}"))
	b.series("Credential phase p99", "p99 of the credential phase of the handshakes in each interval (empty while no connection opens).", "s", half,
		query(quantile("0.99", "auth_mode", "authbench_handshake_phase_seconds", `phase="credential"`), "{{auth_mode}}"))
	b.series("Retries", "Retried attempts per second (lost connections are retried).", "ops", half,
		query(rate("auth_mode", "authbench_retries_total"), "{{auth_mode}}"))
	return b
}
