package password

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbench/authbench/authmodes"
)

// Diagnose checks the password file: readable and not empty. The password
// itself is never shown.
func (m *mode) Diagnose(ctx context.Context, cfg *pgxpool.Config, env authmodes.DiagnoseEnv) []authmodes.Check {
	const step = "password-file"
	if m.file == "" {
		if cfg.ConnConfig.Password != "" {
			return []authmodes.Check{authmodes.Pass(step, "no --password-file: the password is given in --url")}
		}
		return []authmodes.Check{authmodes.Fail(step, "no password file",
			"pass --password-file, or run `eval \"$(authbench stack env)\"` first")}
	}
	if _, err := m.read(); err != nil {
		return []authmodes.Check{authmodes.FailErr(step, err)}
	}
	return []authmodes.Check{authmodes.Pass(step, fmt.Sprintf("%s is readable and not empty (the password is not shown)", m.file))}
}
