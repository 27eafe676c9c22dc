// Package deploy holds what runs authbench beyond one machine: compose/ is
// the reference CockroachDB topology (three secure nodes behind HAProxy, an
// MIT KDC, SPIRE, Vault, Prometheus, Grafana and the driver) and k8s/ runs
// many drivers at once as an Indexed Job. There is no Go code to import;
// the package's tests check those files offline: every reference resolves
// inside the repository, published ports do not collide, the set-up scripts
// agree with the driver's settings, and every authbench command line in
// them parses with the real binary's flags.
package deploy
