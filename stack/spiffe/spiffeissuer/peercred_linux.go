package spiffeissuer

import (
	"net"

	"golang.org/x/sys/unix"
)

// readPeerCredentials reads SO_PEERCRED from a connected unix socket.
func readPeerCredentials(conn *net.UnixConn) (caller, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return caller{}, err
	}
	var cred *unix.Ucred
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err != nil {
		return caller{}, err
	}
	if credErr != nil {
		return caller{}, credErr
	}
	return caller{PID: int(cred.Pid), UID: int(cred.Uid), GID: int(cred.Gid)}, nil
}
