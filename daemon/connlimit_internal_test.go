package daemon

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// Past server.max_connections a new connection waits until one closes,
// and closing the listener ends the wait.
func TestConnectionLimit(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	full := make(chan struct{}, 1)
	l := limitConns(inner, 1, func() { full <- struct{}{} })
	defer l.Close()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String()) // completes in the kernel's listen queue
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1, c2 := dial(), dial()
	defer c1.Close()
	defer c2.Close()
	first, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if open, limit := l.Open(); open != 1 || limit != 1 {
		t.Fatalf("open %d of %d, want 1 of 1", open, limit)
	}
	accepted := make(chan net.Conn)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	<-full // the second Accept waits for a slot
	select {
	case <-accepted:
		t.Fatal("a connection past the limit was accepted")
	default:
	}
	first.Close()
	first.Close() // a second close gives back nothing more
	second := <-accepted
	if open, _ := l.Open(); open != 1 {
		t.Fatalf("open %d after one closed and one was accepted, want 1", open)
	}
	second.Close()

	// Full again: closing the listener ends a waiting Accept.
	c3 := dial()
	defer c3.Close()
	third, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	errc := make(chan error)
	go func() {
		_, err := l.Accept()
		errc <- err
	}()
	<-full
	l.Close()
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

func TestDefaultMaxConnections(t *testing.T) {
	for _, tc := range []struct {
		fileLimit uint64
		want      int
	}{
		{20000, 9936}, // half, less the reserve
		{1024, 448},   // a shell's usual soft limit
		{100, 16},     // never below 16
		{0, 0},        // unknown: no limit
		{1 << 62, 0},  // unlimited: no limit
	} {
		if got := defaultMaxConnections(tc.fileLimit); got != tc.want {
			t.Errorf("defaultMaxConnections(%d) = %d, want %d", tc.fileLimit, got, tc.want)
		}
	}
	if openFileLimit() == 0 {
		t.Log("this platform reports no open-file limit")
	}
}

// While load shedding refuses requests, a new connection waits however few
// are open, and is taken once it stops; closing the listener ends the
// wait.
func TestConnectionsWaitWhileShedding(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := limitConns(inner, 10, func() { t.Error("the limit of 10 was reached") })
	defer l.Close()
	var shedding atomic.Bool
	shedding.Store(true)
	waiting, tick := make(chan struct{}, 1), make(chan time.Time)
	l.pause = func(open int64) bool {
		if open != 0 {
			t.Errorf("pause asked with %d open, want 0", open)
		}
		return shedding.Load()
	}
	l.paused = func() { waiting <- struct{}{} }
	l.recheck = func() <-chan time.Time { return tick }
	c, err := net.Dial("tcp", inner.Addr().String()) // completes in the kernel's listen queue
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- conn
	}()
	<-waiting
	tick <- time.Time{} // asked again, still shedding: it waits on
	select {
	case <-accepted:
		t.Fatal("a connection was accepted while shedding")
	default:
	}
	shedding.Store(false)
	var conn net.Conn
	select {
	case tick <- time.Time{}: // it was waiting for the next tick to ask again
		conn = <-accepted
	case conn = <-accepted: // it asked again before the tick
	}
	if open, _ := l.Open(); open != 1 {
		t.Fatalf("open %d, want 1", open)
	}
	conn.Close()

	shedding.Store(true)
	errs := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		errs <- err
	}()
	<-waiting
	l.Close()
	if err := <-errs; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

// A connection is idle while it waits between requests, not while it reads
// or answers one; closed, it is not counted.
func TestIdleConnectionsAreCounted(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := limitConns(inner, 10, func() { t.Error("the limit of 10 was reached") })
	inHandler, release := make(chan struct{}), make(chan struct{})
	states := make(chan http.ConnState, 16)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inHandler <- struct{}{}
			<-release
		}),
		ConnState: func(c net.Conn, s http.ConnState) {
			l.connState(c, s)
			states <- s
		},
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() {
		srv.Close()
		<-served
	}()
	waitState := func(want http.ConnState) {
		t.Helper()
		for s := range states {
			if s == want {
				return
			}
		}
	}
	tr := &http.Transport{}
	got := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Transport: tr}).Get("http://" + inner.Addr().String())
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		got <- err
	}()
	<-inHandler
	if open, idle := l.open.Load(), l.idle.Load(); open != 1 || idle != 0 {
		t.Fatalf("answering: %d open, %d idle, want 1 and 0", open, idle)
	}
	close(release)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	waitState(http.StateIdle)
	if open, idle := l.open.Load(), l.idle.Load(); open != 1 || idle != 1 {
		t.Fatalf("idle: %d open, %d idle, want 1 and 1", open, idle)
	}
	tr.CloseIdleConnections()
	waitState(http.StateClosed)
	if open, idle := l.open.Load(), l.idle.Load(); open != 0 || idle != 0 {
		t.Fatalf("closed: %d open, %d idle, want none", open, idle)
	}
}
