// Package all registers every component of the local stack: import it for
// its side effect (`import _ ".../stack/all"`) where a program runs
// `stack up` with all of them, as cmd/authbench does.
package all

import (
	// The components, each registering itself with stack.Register.
	_ "github.com/authbench/authbench/stack/haproxy"
	_ "github.com/authbench/authbench/stack/kdc"
	_ "github.com/authbench/authbench/stack/pki"
	_ "github.com/authbench/authbench/stack/postgres"
	_ "github.com/authbench/authbench/stack/prometheus"
	_ "github.com/authbench/authbench/stack/spiffe"
	_ "github.com/authbench/authbench/stack/vault"
)
