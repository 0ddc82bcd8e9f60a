package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// A stream over HTTP/1.x is relayed on its client connection taken over
// from net/http (Hijack) once its request body is read. While a handler
// runs, net/http holds for its connection a 4 KB read buffer, a 4 KB write
// buffer, a 2 KB chunking buffer and the handler goroutine's own frames;
// a stream holds them for as long as it lasts, seconds to minutes, and a
// gateway holds thousands of streams at once (BENCHMARKS.md, "Long
// streams"). Taken over, the call runs on a goroutine of its own and
// writes its chunks straight to the connection; when it is over, the
// connection goes back to the server (http.Server.Serve) for the client's
// next request, as net/http would have kept it alive. HTTP/2 clients keep
// net/http's path: their streams share a connection.

// rstAvoidance is how long a taken-over connection that closes waits,
// after its answer's end is sent, for the client to close its side:
// closing with unread bytes from the client would reset the connection,
// and the client could lose the end of the answer (net/http waits 500 ms
// the same way).
const rstAvoidance = 500 * time.Millisecond

// takenConn is the http.ResponseWriter of a call served on a connection
// taken over. Each write is one write system call, as each flushed chunk
// of a stream is through net/http.
type takenConn struct {
	conn   net.Conn
	srv    *http.Server // takes the connection back; nil: it closes
	frames *sync.Pool   // *[]byte, to frame a chunk in
	header http.Header
	status int
	// started: the status line and header are sent. chunked: the body is
	// in HTTP/1.1 chunks (no Content-Length). keepAlive: the connection
	// goes back to srv once the answer is whole.
	started, chunked, keepAlive bool
	broken                      bool // a write failed
	// pre are bytes the client sent past the request, read before the
	// takeover or by watch; they go back with the connection.
	pre []byte
	// watched is closed once watch stops reading; gone then says whether
	// the client closed its side or reset the connection.
	watched chan struct{}
	gone    bool
	peek    [1]byte
}

// hijack takes over w's connection for a stream request, or reports
// false: the request is not over HTTP/1.x, or the connection cannot be
// taken over (a test's recorder, or a wrapper without Hijack). The body
// must have been read to its end: the connection is then at the client's
// next request.
func (g *Gateway) hijack(w http.ResponseWriter, r *http.Request, rc *http.ResponseController) (*takenConn, bool) {
	if r.ProtoMajor != 1 {
		return nil, false
	}
	h := w.Header() // set so far by what wraps the API (CORS), kept
	// Counted before the connection leaves the server's count (Hijack), so
	// that a shutdown that finds none left there finds this one here.
	g.detached.Add(1)
	conn, brw, err := rc.Hijack()
	if err != nil {
		g.detached.Done()
		return nil, false
	}
	t := &takenConn{conn: conn, frames: &g.frames, header: h, watched: make(chan struct{})}
	if n := brw.Reader.Buffered(); n > 0 { // a pipelined request
		b, _ := brw.Reader.Peek(n)
		t.pre = bytes.Clone(b)
	}
	t.srv, _ = r.Context().Value(http.ServerContextKey).(*http.Server)
	t.keepAlive = t.srv != nil && !r.Close && r.ProtoAtLeast(1, 1)
	if !t.keepAlive {
		h.Set("Connection", "close")
	}
	return t, true
}

// Header returns the answer's header, sent with the first write.
func (t *takenConn) Header() http.Header { return t.header }

// WriteHeader sets the answer's status, sent with the first write. Later
// calls do nothing.
func (t *takenConn) WriteHeader(code int) {
	if t.status == 0 {
		t.status = code
	}
}

// Write sends b, after the status line and header if they are not sent
// yet (in the same write), as one chunk of a chunked body.
func (t *takenConn) Write(b []byte) (int, error) {
	if t.started && !t.chunked {
		n, err := t.conn.Write(b)
		t.broken = t.broken || err != nil
		return n, err
	}
	if t.started && len(b) == 0 {
		return 0, nil // an empty chunk would end the body
	}
	p := t.frames.Get().(*[]byte)
	buf := (*p)[:0]
	if !t.started {
		buf = t.appendHead(buf)
	}
	head := len(buf)
	if t.chunked && len(b) > 0 {
		buf = strconv.AppendInt(buf, int64(len(b)), 16)
		buf = append(buf, "\r\n"...)
		buf = append(buf, b...)
		buf = append(buf, "\r\n"...)
	} else {
		buf = append(buf, b...)
	}
	n, err := t.conn.Write(buf)
	if cap(buf) <= 64<<10 { // a rare long chunk's buffer is not kept
		*p = buf
		t.frames.Put(p)
	}
	if err != nil {
		t.broken = true
		return 0, err
	}
	return max(min(n-head, len(b)), 0), nil
}

// appendHead appends the status line and header, which net/http would
// have written: a Date, and chunked framing when no Content-Length is set
// (on a connection kept alive).
func (t *takenConn) appendHead(buf []byte) []byte {
	t.started = true
	if t.status == 0 {
		t.status = http.StatusOK
	}
	if t.header.Get("Content-Length") == "" && t.keepAlive {
		t.chunked = true
		t.header.Set("Transfer-Encoding", "chunked")
	}
	buf = append(buf, "HTTP/1.1 "...)
	buf = strconv.AppendInt(buf, int64(t.status), 10)
	buf = append(buf, ' ')
	buf = append(buf, http.StatusText(t.status)...)
	buf = append(buf, "\r\n"...)
	if t.header.Get("Date") == "" {
		buf = append(buf, "Date: "...)
		buf = time.Now().UTC().AppendFormat(buf, http.TimeFormat)
		buf = append(buf, "\r\n"...)
	}
	hb := bytes.NewBuffer(buf)
	_ = t.header.Write(hb) // sanitized as net/http's own header is
	return append(hb.Bytes(), "\r\n"...)
}

// FlushError sends the status line and header if nothing is sent yet;
// writes are not buffered otherwise. For http.ResponseController, which
// looks for this name (a Flush that returns an error it does not know,
// and would answer each flush with an error it makes anew).
func (t *takenConn) FlushError() error {
	if t.started {
		return nil
	}
	_, err := t.Write(nil)
	return err
}

// SetWriteDeadline bounds the writes to the client (server.send_timeout).
// For http.ResponseController.
func (t *takenConn) SetWriteDeadline(at time.Time) error { return t.conn.SetWriteDeadline(at) }

// watch reads the client's side of the connection while the call lasts:
// its end, or a reset, is the client leaving, and cancels the call, as
// net/http's background read does for a handler. A byte the client sends
// (its next request) ends the watch and is kept for the server.
func (t *takenConn) watch(cancel context.CancelFunc) {
	defer close(t.watched)
	n, err := t.conn.Read(t.peek[:])
	if n > 0 {
		t.pre = append(t.pre, t.peek[0])
		return
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) { // not end's stop
		t.gone = true
		cancel()
	}
}

// end ends the answer (the header if nothing was sent, as net/http sends
// a 200 for a handler that writes nothing; the last chunk), then gives the
// connection back to the server for the client's next request, or closes
// it: when the client asked so, left, or a write failed, or the server is
// shutting down.
func (t *takenConn) end() {
	if !t.started {
		_, _ = t.Write(nil)
	}
	if t.chunked && !t.broken {
		if _, err := t.conn.Write([]byte("0\r\n\r\n")); err != nil {
			t.broken = true
		}
	}
	_ = t.conn.SetWriteDeadline(time.Time{})
	_ = t.conn.SetReadDeadline(time.Unix(1, 0)) // ends watch's read
	<-t.watched
	if t.keepAlive && !t.broken && !t.gone {
		_ = t.conn.SetReadDeadline(time.Time{})
		if t.handBack() {
			return
		}
	}
	t.close()
}

// handBack gives the connection to the server, which reads the client's
// next request from it as from any connection it accepts. It reports
// false when the server took nothing (it is shutting down).
func (t *takenConn) handBack() bool {
	var c net.Conn = t.conn
	if len(t.pre) > 0 {
		c = &prefixConn{Conn: t.conn, pre: t.pre}
	}
	l := &handedBack{conn: c, addr: c.LocalAddr()}
	_ = t.srv.Serve(l) // returns once it has taken the one connection
	return l.conn == nil
}

// close closes the connection, past the client's closing of its side
// (rstAvoidance).
func (t *takenConn) close() {
	if cw, ok := t.conn.(interface{ CloseWrite() error }); ok && !t.gone && cw.CloseWrite() == nil {
		_ = t.conn.SetReadDeadline(time.Now().Add(rstAvoidance))
		_, _ = io.Copy(io.Discard, t.conn)
	}
	t.conn.Close()
}

// handedBack is a listener of the one connection a stream was relayed on,
// for http.Server.Serve to take back.
type handedBack struct {
	conn net.Conn
	addr net.Addr
}

// Accept returns the connection the first time, then net.ErrClosed,
// which ends Serve (the connection, accepted, is served on).
func (l *handedBack) Accept() (net.Conn, error) {
	c := l.conn
	if c == nil {
		return nil, net.ErrClosed
	}
	l.conn = nil
	return c, nil
}

func (l *handedBack) Close() error { return nil }

func (l *handedBack) Addr() net.Addr { return l.addr }

// prefixConn is a connection whose client sent bytes that were read
// before the server got it back: they are read first.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(b, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// CloseWrite passes net/http's half-close through.
func (c *prefixConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// detach serves the rest of a stream request, read in full, on its
// connection taken over (hijack, which counts it in g.detached), on a
// goroutine of its own: the handler that calls it returns at once, and
// with it net/http's hold on the connection. span is the request's span,
// ended when the call is.
//
// The call keeps nothing of the request but its context's values: its
// body, even read, would keep net/http's connection and buffers.
func (c *call) detach(t *takenConn, r *http.Request, span trace.Span) {
	g := c.g
	// The request's context ends when its handler returns: the call
	// keeps its values (the span), and ends when the client leaves.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	go func() {
		defer g.detached.Done()
		defer g.putCall(c)
		defer cancel()
		defer func() {
			if v := recover(); v != nil { // logged, and the connection closed, as net/http does for a handler
				g.log.Error("panic serving a stream", "panic", v, "stack", string(debug.Stack()))
				t.conn.Close()
			}
		}()
		go t.watch(cancel)
		c.rc = http.NewResponseController(t)
		c.finish(span, c.run(ctx, t))
		t.end()
	}()
}
