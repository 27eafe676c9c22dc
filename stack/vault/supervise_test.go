package vault

import (
	"strings"
	"testing"
)

// The filter between a real Vault dev server and its log: dev mode's
// banner values and every known secret are gone, the unseal key is kept
// in memory, and a failed start is told by the server's own error lines.
func TestSecretFilter(t *testing.T) {
	var log strings.Builder
	f := &secretFilter{out: &log, secrets: []string{"root-SECRET-token", "secret-id-VALUE"}}
	banner := "WARNING! dev mode is enabled!\nUnseal Key: aGVsbG8gdW5zZWFsIGtleQ==\nRoot Token: root-SECRET-token\n" +
		"2026 [INFO] core: login with secret-id-VALUE\nError initializing Dev mode: failed to create root token with ID \"hvs.x\": 1 error occurred:\n\t* invalid request\n\npartial"
	for _, chunk := range []string{banner[:20], banner[20:77], banner[77:]} { // lines split across writes
		if _, err := f.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	out := log.String()
	for _, s := range []string{"root-SECRET-token", "secret-id-VALUE", "aGVsbG8gdW5zZWFsIGtleQ=="} {
		if strings.Contains(out, s) {
			t.Errorf("the log holds a secret: %q", out)
		}
	}
	if f.unsealKey() != "aGVsbG8gdW5zZWFsIGtleQ==" || !strings.Contains(out, "Unseal Key: (redacted)") {
		t.Errorf("unseal key %q kept; log %q", f.unsealKey(), out)
	}
	if strings.Contains(out, "partial") {
		t.Error("a line without its end was written")
	}
	want := `Error initializing Dev mode: failed to create root token with ID "hvs.x": 1 error occurred: * invalid request`
	if got := f.errorLine().Error(); got != want {
		t.Errorf("errorLine = %q, want %q", got, want)
	}
}
