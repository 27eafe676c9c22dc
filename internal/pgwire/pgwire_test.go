package pgwire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// conn is a connection whose server answers with the given bytes.
type conn struct {
	io.Reader
	sent bytes.Buffer
}

func (c *conn) Write(b []byte) (int, error) { return c.sent.Write(b) }

func TestSSLRequestIsPostgresOwn(t *testing.T) {
	want := []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f} // length 8, code 80877103
	if got := SSLRequest(); !bytes.Equal(got, want) {
		t.Errorf("SSLRequest() = %v, want %v", got, want)
	}
}

func TestRequestTLS(t *testing.T) {
	for _, tc := range []struct {
		answer string
		check  func(error) bool
	}{
		{"S", func(err error) bool { return err == nil }},
		{"N", func(err error) bool { return errors.Is(err, ErrNoTLS) }},
		{"E", func(err error) bool { return err != nil && strings.Contains(err.Error(), "not PostgreSQL's protocol") }},
		{"", func(err error) bool { return errors.Is(err, io.EOF) }},
	} {
		c := &conn{Reader: strings.NewReader(tc.answer)}
		err := RequestTLS(c)
		if !tc.check(err) {
			t.Errorf("answer %q: RequestTLS = %v", tc.answer, err)
		}
		if !bytes.Equal(c.sent.Bytes(), SSLRequest()) {
			t.Errorf("answer %q: sent %v, want the SSLRequest", tc.answer, c.sent.Bytes())
		}
	}
}
