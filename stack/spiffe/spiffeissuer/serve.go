package spiffeissuer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"google.golang.org/grpc"
)

// maxSocketPath is the longest unix socket path Linux accepts (sun_path is
// 108 bytes including the terminating NUL).
const maxSocketPath = 107

// Serve serves the Workload API on Config.SocketPath until ctx is done, then
// stops and removes the socket. A stale socket left by a dead server is
// replaced; a live one is an error. It returns nil after ctx is done.
func (i *Issuer) Serve(ctx context.Context) error {
	lis, err := listen(i.cfg.SocketPath)
	if err != nil {
		return err
	}
	return i.serve(ctx, lis)
}

// serve runs the gRPC server and the rotation loop on lis until ctx is done.
func (i *Issuer) serve(ctx context.Context, lis *net.UnixListener) error {
	srv := grpc.NewServer(
		grpc.Creds(peerCredentials{}),
		grpc.UnaryInterceptor(unarySecurityHeader),
		grpc.StreamInterceptor(streamSecurityHeader),
	)
	workload.RegisterSpiffeWorkloadAPIServer(srv, &workloadAPI{iss: i})

	loopCtx, stopLoop := context.WithCancel(ctx)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		i.rotateLoop(loopCtx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()

	var err error
	select {
	case <-ctx.Done():
		srv.Stop()
		<-errc
	case err = <-errc:
		err = fmt.Errorf("serve unix://%s: %w", i.cfg.SocketPath, err)
	}
	stopLoop()
	<-loopDone
	if rmErr := os.Remove(i.cfg.SocketPath); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
		err = rmErr
	}
	return err
}

// listen opens the unix socket at path, world-connectable like SPIRE's agent
// socket: attestation, not file permissions, decides what a caller gets.
func listen(path string) (*net.UnixListener, error) {
	switch {
	case path == "":
		return nil, errors.New("config: SocketPath is required")
	case len(path) > maxSocketPath:
		return nil, fmt.Errorf("socket path %s is %d bytes, over the %d-byte limit", path, len(path), maxSocketPath)
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	lis, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o777); err != nil {
		lis.Close()
		return nil, err
	}
	return lis, nil
}

// removeStaleSocket removes a socket nobody listens on. It refuses to touch
// anything that is not a socket, or a socket a live server answers on.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSocket == 0:
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
		conn.Close()
		return fmt.Errorf("socket %s is in use by a running server", path)
	}
	return os.Remove(path)
}
