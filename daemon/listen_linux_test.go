package daemon

import (
	"context"
	"net"
	"syscall"
	"testing"
)

// A connection accepted on Listen's listener has Go's default TCP
// keep-alive settings, inherited from the listening socket, and
// TCP_NODELAY as Go sets it.
func TestListenedConnectionsKeepAlive(t *testing.T) {
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rc, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	want := append(keepAliveOptions[:], struct{ level, opt, value int }{syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1})
	if err := rc.Control(func(fd uintptr) {
		for _, o := range want {
			if v, err := syscall.GetsockoptInt(int(fd), o.level, o.opt); err != nil || v != o.value {
				t.Errorf("socket option %d/%d is %d (%v), want %d", o.level, o.opt, v, err, o.value)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
}
