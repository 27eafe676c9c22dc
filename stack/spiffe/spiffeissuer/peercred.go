package spiffeissuer

import (
	"context"
	"errors"
	"fmt"
	"net"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// caller is the AuthInfo of a Workload API connection: the unix credentials
// of the process that connected, read when the connection was accepted.
type caller struct {
	credentials.CommonAuthInfo
	PID, UID, GID int
}

// AuthType names the attestation method.
func (caller) AuthType() string { return "peercred" }

// peerCredentials is a server-side grpc TransportCredentials that attests
// the process on the other end of a unix socket. It adds no encryption: the
// socket never leaves the machine.
type peerCredentials struct{}

// ServerHandshake reads the peer credentials of conn.
func (peerCredentials) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return nil, nil, fmt.Errorf("peer credentials need a unix socket, not %T", conn)
	}
	c, err := readPeerCredentials(uc)
	if err != nil {
		return nil, nil, fmt.Errorf("read peer credentials: %w", err)
	}
	c.SecurityLevel = credentials.NoSecurity
	return conn, c, nil
}

// ClientHandshake fails: these credentials are for the server only.
func (peerCredentials) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("peer credentials are server-side only")
}

// Info describes the protocol.
func (peerCredentials) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "peercred"}
}

// Clone returns a copy.
func (peerCredentials) Clone() credentials.TransportCredentials { return peerCredentials{} }

// OverrideServerName does nothing; it is part of the interface.
func (peerCredentials) OverrideServerName(string) error { return nil }

// callerUID returns the unix UID of the process that made the call in ctx.
func callerUID(ctx context.Context) (int, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return 0, status.Error(codes.Internal, "caller credentials unavailable")
	}
	c, ok := p.AuthInfo.(caller)
	if !ok {
		return 0, status.Error(codes.Internal, "caller credentials unavailable")
	}
	return c.UID, nil
}
