// Package deploy holds what runs authbench beyond one machine: compose/ is
// the reference CockroachDB topology (three secure nodes behind HAProxy, an
// MIT KDC, SPIRE, Vault, Prometheus, Grafana and the driver) and k8s/ runs
// many drivers at once as an Indexed Job. There is no Go code to import;
// the package's tests check those files offline. The compose file is
// loaded by compose-go (the Compose specification's loader and schema) and
// the manifests are decoded strictly into the k8s.io/api types, so an
// unknown field is an error; on the loaded objects the tests then check
// that every path exists inside the repository, published ports do not
// collide, the set-up scripts agree with the driver's settings, and every
// authbench command line parses with the real binary's flags. deploy is a
// module of its own, so that those libraries stay out of the main go.mod.
package deploy
