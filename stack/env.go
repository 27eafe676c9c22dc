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
func (s *State) Env() []EnvVar {
	certUser, _ := s.FirstUser(MethodCert)
	pwUser, _ := s.FirstUser(MethodPassword)
	return append([]EnvVar{
		{"AUTHBENCH_STACK_DIR", s.Dir},
		{"AUTHBENCH_HOST", s.LBHost},
		{"AUTHBENCH_PORT", strconv.Itoa(s.LBPort)},
		{"AUTHBENCH_DATABASE", s.Database},
		{"AUTHBENCH_CA", s.CAFile},
		{"AUTHBENCH_CERTS_DIR", s.CertsDir},
		{"AUTHBENCH_CERT_USER", certUser.Name},
		{"AUTHBENCH_PASSWORD_USER", pwUser.Name},
		{"AUTHBENCH_PASSWORD_FILE", s.PasswordFile},
		{"AUTHBENCH_STATS_URL", s.StatsURL()},
		{"AUTHBENCH_ADMIN_USER", s.AdminUser},
		{"AUTHBENCH_OWNER_ROLE", RWRole},
	}, s.componentEnv()...)
}
