// Package dashboards builds the Grafana dashboards of this directory
// (overview.json, auth-modes.json, rotation.json) in Go with the Grafana
// Foundation SDK. The JSON files are generated and committed, for users
// who import them; `go generate ./dashboards` rewrites them, and a test
// fails when they differ from what the code builds.
//
// Every panel reads only metrics that `authbench run` serves on /metrics
// (docs/metrics.md), through the dashboard's datasource variable.
package dashboards

//go:generate go run ./gen
