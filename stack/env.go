package stack

import "strconv"

// EnvVar is one environment variable describing the stack.
type EnvVar struct {
	// Name is the variable name.
	Name string
	// Value is its value ("" when the stack has no such thing).
	Value string
}

// Env returns the variables that point the driver and the tests at the
// stack. None of them holds a secret: passwords are passed as a file path.
// The core's own variables say where to connect and as whom; each
// component adds its own in status order, the base components' (negative
// status order) before the core's admin and owner roles, as `stack env`
// always printed them.
func (s *State) Env() []EnvVar {
	out := []EnvVar{
		{"AUTHBENCH_STACK_DIR", s.Dir},
		{"AUTHBENCH_HOST", s.LBHost},
		{"AUTHBENCH_PORT", strconv.Itoa(s.LBPort)},
		{"AUTHBENCH_DATABASE", s.Database},
		{"AUTHBENCH_CA", s.CAFile},
	}
	roles := []EnvVar{
		{"AUTHBENCH_ADMIN_USER", s.AdminUser},
		{"AUTHBENCH_OWNER_ROLE", RWRole},
	}
	for _, r := range sortedRegistered(func(o Order) int { return o.Status }) {
		if roles != nil && r.order.Status >= 0 {
			out, roles = append(out, roles...), nil
		}
		if r.c.Enabled(s) {
			out = append(out, r.c.Env(s)...)
		}
	}
	return append(out, roles...)
}
