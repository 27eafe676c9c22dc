package password

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/doctor"
	"github.com/authbench/authbench/fix"
)

var _ doctor.Diagnoser = (*mode)(nil)

// Diagnose checks the password file: readable and not empty. The password
// itself is never shown.
func (m *mode) Diagnose(ctx context.Context, cfg *pgxpool.Config, env doctor.Env) []doctor.Check {
	const step = "password-file"
	if m.file == "" {
		if cfg.ConnConfig.Password != "" {
			return []doctor.Check{doctor.Pass(step, "no %v: the password is given in %v", fix.Flag("password-file"), fix.Flag("url"))}
		}
		return []doctor.Check{doctor.FromErr(step, noPassword())}
	}
	if _, err := m.read(); err != nil {
		return []doctor.Check{doctor.FromErr(step, err)}
	}
	return []doctor.Check{doctor.Pass(step, "%s is readable and not empty (the password is not shown)", m.file)}
}
