package daemon

import (
	"net"
	"syscall"
)

// keepAliveOptions are Go's default TCP keep-alive settings
// (net.KeepAliveConfig), as socket options.
var keepAliveOptions = [...]struct{ level, opt, value int }{
	{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
	{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 15},
	{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, 15},
	{syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, 9},
}

// listenConfig sets keep-alive on the listening socket, and leaves Go's
// per-connection setting off (KeepAlive < 0): Linux copies a listening
// socket's options to the connections it accepts.
func listenConfig() *net.ListenConfig {
	return &net.ListenConfig{KeepAlive: -1, Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			for _, o := range keepAliveOptions {
				if err == nil {
					err = syscall.SetsockoptInt(int(fd), o.level, o.opt, o.value)
				}
			}
		}); cerr != nil {
			return cerr
		}
		return err
	}}
}
