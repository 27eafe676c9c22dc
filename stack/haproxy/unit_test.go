package haproxy

import (
	"strings"
	"testing"
)

func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := haproxyPaths
	t.Cleanup(func() { haproxyPaths = saved })
	haproxyPaths = nil
	_, err := binary()
	if err == nil || !strings.HasPrefix(err.Error(), "haproxy 2.6 not found (haproxy): run") {
		t.Errorf("error %v, want haproxy not found", err)
	}
}
