package results

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuthSettingsAreAnObject writes auth settings as a JSON object and
// reads them back.
func TestAuthSettingsAreAnObject(t *testing.T) {
	dir := t.TempDir()
	want := map[string]string{"vault_addr": "http://127.0.0.1:8200", "renewals": "3"}
	s := &Summary{Version: SummaryVersion, Workload: "bank", Config: map[string]string{"auth": "vault"}, AuthConf: want}
	if err := s.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, SummaryFile))
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || !strings.HasPrefix(string(raw["auth_settings"]), "{") {
		t.Fatalf("auth_settings is not an object: %s (%v)", raw["auth_settings"], err)
	}
	got, err := ReadSummary(dir)
	if err != nil || !maps.Equal(got.AuthConf, want) {
		t.Errorf("read back %v (%v), want %v", got.AuthConf, err, want)
	}
}

// TestOldAuthSettingsStringIsRead reads a summary written before
// auth_settings was an object: the Go map string in config becomes the map.
func TestOldAuthSettingsStringIsRead(t *testing.T) {
	dir := t.TempDir()
	old := `{"version":1,"workload":"bank","auth_mode":"spiffe","config":{"auth":"spiffe",` +
		`"auth_settings":"map[recycle_jitter:5s server_spiffe_id:(verified against --ca) spiffe_socket:unix:///tmp/agent.sock]"}}`
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"recycle_jitter": "5s", "server_spiffe_id": "(verified against --ca)", "spiffe_socket": "unix:///tmp/agent.sock"}
	if !maps.Equal(s.AuthConf, want) {
		t.Errorf("old auth settings read as %v, want %v", s.AuthConf, want)
	}
	if _, ok := s.Config["auth_settings"]; ok || s.Config["auth"] != "spiffe" {
		t.Errorf("config after the upgrade: %v", s.Config)
	}
}
