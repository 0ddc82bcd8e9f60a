package daemon

import (
	"context"
	"net"
)

// Listen opens a TCP listener on addr for Serve. Its client connections
// get TCP keep-alive probes with Go's defaults (after 15 s idle, every
// 15 s, 9 of them), so a client that vanished while its request waits on a
// long upstream call is found and the call cancelled. On Linux they are
// set once, on the listening socket, which accepted connections inherit,
// instead of with four system calls on every accepted connection (3% of
// breakerd's CPU in bench/load -overload, whose clients connect often);
// elsewhere Go sets them on each connection.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	return listenConfig().Listen(ctx, "tcp", addr)
}
