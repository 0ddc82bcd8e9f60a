package gateway

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// A taken-over connection is flushed through http.ResponseController, as
// net/http's writer is: a flush before any write sends the status line and
// header, and one after is nothing to do; neither is ErrNotSupported,
// which the controller would make anew for each chunk of a stream.
func TestTakenConnFlushesThroughResponseController(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	tc := &takenConn{conn: server, frames: &sync.Pool{New: func() any { b := make([]byte, 0, 64); return &b }}, header: http.Header{}, watched: make(chan struct{})}
	rc := http.NewResponseController(tc)
	tc.header.Set("Content-Type", "text/event-stream")
	head := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(client).ReadString('\n')
		head <- line
	}()
	if err := rc.Flush(); err != nil {
		t.Fatalf("the first flush: %v", err)
	}
	if line := <-head; !strings.HasPrefix(line, "HTTP/1.1 200 OK") {
		t.Fatalf("the flush sent %q, want the status line", line)
	}
	if err := rc.Flush(); err != nil {
		t.Fatalf("a flush after: %v", err)
	}
}
