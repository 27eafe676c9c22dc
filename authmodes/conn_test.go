package authmodes

import "testing"

func TestTLSModeAndWeakened(t *testing.T) {
	for _, c := range []struct {
		conn     Conn
		mode     string
		weakened bool
	}{
		{Conn{SSLMode: SSLVerifyFull}, SSLVerifyFull, false},
		{Conn{SSLMode: SSLRequire, Insecure: true}, SSLRequire, true},
		{Conn{URL: "postgresql://u@h/db?sslmode=verify-full&sslrootcert=/ca.crt", SSLMode: SSLVerifyFull}, SSLVerifyFull, false},
		{Conn{URL: "postgresql://u@h/db?sslrootcert=/ca.crt&sslmode=require", SSLMode: SSLVerifyFull, Insecure: true}, SSLRequire, true},
		{Conn{URL: "host=h user=u sslmode=verify-ca", SSLMode: SSLVerifyFull, Insecure: true}, SSLVerifyCA, true},
		{Conn{URL: "postgresql://u@h/db", SSLMode: SSLVerifyFull, Insecure: true}, "prefer", true},
	} {
		if got := c.conn.TLSMode(); got != c.mode || c.conn.Weakened() != c.weakened {
			t.Errorf("%+v: TLSMode %q weakened %v, want %q %v", c.conn, got, c.conn.Weakened(), c.mode, c.weakened)
		}
	}
}
