//go:build !linux

package spiffeissuer

import (
	"errors"
	"net"
)

// readPeerCredentials is only implemented on Linux (SO_PEERCRED).
func readPeerCredentials(*net.UnixConn) (caller, error) {
	return caller{}, errors.New("peer credentials are only supported on linux")
}
