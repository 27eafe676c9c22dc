package password

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/authbench/authbench/authmodes"
	"github.com/authbench/authbench/authmodes/authmodestest"
)

func TestPasswordReadOnEveryConnect(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("s3cret-one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	m := newMode(fs)
	_ = fs.Parse([]string{"--password-file", file})
	cfg, _ := pgxpool.ParseConfig("postgresql://u@localhost:1/db")
	ev := &authmodestest.Recorder{}
	if err := m.Configure(context.Background(), cfg, authmodes.Env{Events: ev}); err != nil {
		t.Fatal(err)
	}
	cc := cfg.ConnConfig.Copy()
	if err := cfg.BeforeConnect(context.Background(), cc); err != nil || cc.Password != "s3cret-one" {
		t.Fatalf("first connect: %q %v", cc.Password, err)
	}
	_ = os.WriteFile(file, []byte("s3cret-two"), 0o600)
	cc = cfg.ConnConfig.Copy()
	if err := cfg.BeforeConnect(context.Background(), cc); err != nil || cc.Password != "s3cret-two" || len(ev.Events()) != 1 {
		t.Fatalf("after rotation: %q %v, events %v", cc.Password, err, ev.Events())
	}
	ev.AssertNoSecret(t, "s3cret")
	if s := m.Settings(); strings.Contains(s["password"], "s3cret") {
		t.Fatalf("settings leak the password: %v", s)
	}
	_ = os.WriteFile(file, nil, 0o600)
	if err := cfg.BeforeConnect(context.Background(), cfg.ConnConfig.Copy()); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty file: %v", err)
	}
}
