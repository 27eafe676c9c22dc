package authmodes

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"
)

// loginMode is a test auth mode that logs in once per Configure.
type loginMode struct {
	role   string
	logins int
}

func (m *loginMode) DefaultUser() string { return m.role }
func (m *loginMode) Configure(context.Context, *pgxpool.Config, Env) error {
	m.logins++
	return nil
}
func (m *loginMode) Settings() map[string]string { return map[string]string{"role": m.role} }
func (m *loginMode) Close() error                { return nil }

func TestNewInstanceHasItsOwnCredentialsFromTheSameFlags(t *testing.T) {
	meta := Meta{Name: "login", New: func(fs *pflag.FlagSet) Mode {
		m := &loginMode{}
		fs.StringVar(&m.role, "login-role", "default", "role")
		return m
	}}
	var modes []*loginMode
	for range 4 {
		m, err := NewInstance(meta, []string{"--login-role=bench"})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Configure(context.Background(), &pgxpool.Config{}, Env{}); err != nil {
			t.Fatal(err)
		}
		modes = append(modes, m.(*loginMode))
	}
	for i, m := range modes {
		if m.role != "bench" || m.logins != 1 {
			t.Errorf("instance %d: role %q, %d logins; want bench and 1 login of its own", i+1, m.role, m.logins)
		}
		for _, o := range modes[:i] {
			if o == m {
				t.Errorf("instance %d shares its mode with another", i+1)
			}
		}
	}
	if _, err := NewInstance(meta, []string{"--nope=1"}); err == nil {
		t.Error("an unknown flag must fail")
	}
}
