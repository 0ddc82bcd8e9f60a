package daemon

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// connLimit bounds the client connections open at once on a listener
// (server.max_connections). Past the limit Accept waits until one closes,
// and new connections wait in the kernel's listen queue, as HAProxy's
// maxconn has them wait: breakerd's memory and descriptors stay bounded
// however many connections clients open, and a flood of them cannot take
// the descriptors that upstream calls need (a failed upstream connect
// would count against a healthy provider).
type connLimit struct {
	net.Listener
	slots chan struct{}
	open  atomic.Int64
	// idle counts the open connections that wait between requests
	// (connState).
	idle atomic.Int64
	// full is called each time Accept has to wait for a connection to
	// close (logging; tests).
	full      func()
	done      chan struct{}
	closeOnce sync.Once
	// pause, when set, reports whether new connections must wait, given
	// the connections open, below the limit: load shedding is refusing
	// requests (gateway.PauseAccept says why). Accept asks again at each
	// tick of recheck, and calls paused each time it starts to wait.
	pause   func(open int64) bool
	recheck func() <-chan time.Time
	paused  func()
}

func limitConns(ln net.Listener, n int, full func()) *connLimit {
	return &connLimit{Listener: ln, slots: make(chan struct{}, n), full: full, done: make(chan struct{}),
		recheck: func() <-chan time.Time { return time.After(10 * time.Millisecond) }}
}

// Accept waits while pause says so, then for a free slot, then for a
// connection.
func (l *connLimit) Accept() (net.Conn, error) {
	if l.pause != nil && l.pause(l.open.Load()) {
		l.paused()
		for l.pause(l.open.Load()) {
			select {
			case <-l.recheck():
			case <-l.done:
				return nil, net.ErrClosed
			}
		}
	}
	select {
	case l.slots <- struct{}{}:
	default:
		l.full()
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	l.open.Add(1)
	return &limitedConn{Conn: c, l: l}, nil
}

// Close closes the listener and ends an Accept that waits for a slot.
func (l *connLimit) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Open returns the connections open now, and the limit.
func (l *connLimit) Open() (open, limit int64) { return l.open.Load(), int64(cap(l.slots)) }

// connState is the server's http.Server.ConnState: it keeps the count of
// idle connections (breakerd_connections_idle).
func (l *connLimit) connState(c net.Conn, state http.ConnState) {
	if lc, ok := c.(*limitedConn); ok {
		lc.setIdle(state == http.StateIdle)
	}
}

// limitedConn gives its slot back when closed, once.
type limitedConn struct {
	net.Conn
	l    *connLimit
	once sync.Once
	idle atomic.Bool
}

func (c *limitedConn) setIdle(idle bool) {
	if c.idle.Swap(idle) != idle {
		if idle {
			c.l.idle.Add(1)
		} else {
			c.l.idle.Add(-1)
		}
	}
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.setIdle(false)
		c.l.open.Add(-1)
		<-c.l.slots
	})
	return err
}

// CloseWrite passes net/http's half-close through (it sends a reply's end
// before closing a connection whose request body it did not read, so that
// the client gets the reply rather than a reset).
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// defaultMaxConnections is server.max_connections when the config leaves
// it at 0: half of the open-file limit (a proxied call holds a client and
// an upstream descriptor), less a reserve for listeners, files and Redis;
// 0 (no limit) when the limit is unknown or unlimited.
func defaultMaxConnections(fileLimit uint64) int {
	const reserve = 64
	if fileLimit == 0 || fileLimit > 1<<24 {
		return 0
	}
	return max(int(fileLimit/2)-reserve, 16)
}
