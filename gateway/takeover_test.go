package gateway_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breakerd/breakerd/mockllm"
)

const (
	streamBody = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]}`
	callBody   = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`
)

// rawRequest is a chat request as a client writes it on the wire.
func rawRequest(proto, body string, header ...string) string {
	return "POST /v1/chat/completions " + proto + "\r\nHost: gw\r\nContent-Type: application/json\r\n" +
		strings.Join(append(header, ""), "\r\n") + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// readAnswer reads one answer from the connection and returns it with
// its body.
func readAnswer(t *testing.T, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading an answer: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading an answer's body: %v", err)
	}
	return resp, string(body)
}

// A stream over HTTP/1.x is relayed on its connection taken over from
// net/http (which then holds none of its buffers), and the connection goes
// back to the server for the client's next request: sent after the
// stream, with it (pipelined), or while it is still under way. A client
// that asks for the connection to close, or speaks HTTP/1.0, gets its
// stream delimited by the close.
func TestStreamConnectionIsTakenOverThenKeptAlive(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{ChunkDelayMS: 20})
	var mu sync.Mutex
	states := map[string][]http.ConnState{} // by client address
	srv := httptest.NewUnstartedServer(e.gw.Handler())
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		states[c.RemoteAddr().String()] = append(states[c.RemoteAddr().String()], s)
	}
	srv.Start()
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name string
		// when the second request is written: "after" the stream is read,
		// "with" the stream's request, "during" the stream (after its
		// first chunk); "" for no second request.
		second    string
		streamReq string
		closes    bool // the connection closes after the stream
	}{
		{name: "next request after the stream", second: "after", streamReq: rawRequest("HTTP/1.1", streamBody)},
		{name: "next request pipelined with the stream", second: "with", streamReq: rawRequest("HTTP/1.1", streamBody)},
		{name: "next request sent while the stream is under way", second: "during", streamReq: rawRequest("HTTP/1.1", streamBody)},
		{name: "client asks to close", streamReq: rawRequest("HTTP/1.1", streamBody, "Connection: close"), closes: true},
		{name: "HTTP/1.0 client", streamReq: rawRequest("HTTP/1.0", streamBody), closes: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// A failure here is an answer that never comes: fail, not hang.
			_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(conn)
			next := rawRequest("HTTP/1.1", callBody)
			first := tc.streamReq
			if tc.second == "with" {
				first += next
			}
			if _, err := io.WriteString(conn, first); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Date") == "" {
				t.Fatalf("stream answer %s %v", resp.Status, resp.Header)
			}
			if chunked := len(resp.TransferEncoding) > 0; chunked == tc.closes || resp.Close != tc.closes {
				t.Fatalf("transfer encoding %v, close %v: want chunked and kept alive, or delimited by the close (%v)",
					resp.TransferEncoding, resp.Close, tc.closes)
			}
			line, err := bufio.NewReader(resp.Body).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "data: {") {
				t.Fatalf("first line %q: %v", line, err)
			}
			if tc.second == "during" {
				if _, err := io.WriteString(conn, next); err != nil {
					t.Fatal(err)
				}
			}
			rest, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
				t.Fatalf("the stream's end %q: %v", rest, err)
			}
			<-e.done
			if tc.closes {
				if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
					t.Fatalf("after the stream: read %d, %v; want the connection closed", n, err)
				}
				return
			}
			if tc.second == "after" {
				if _, err := io.WriteString(conn, next); err != nil {
					t.Fatal(err)
				}
			}
			resp2, body := readAnswer(t, br)
			<-e.done
			if resp2.StatusCode != 200 || !strings.Contains(body, `"chat.completion"`) {
				t.Fatalf("the next request on the connection: %s %q", resp2.Status, body)
			}
			mu.Lock()
			defer mu.Unlock()
			s := states[conn.LocalAddr().String()]
			if i := slices.Index(s, http.StateHijacked); i < 0 || slices.Index(s[i:], http.StateActive) < 0 {
				t.Fatalf("the connection's states %v: want it taken over (hijacked), then serving again", s)
			}
		})
	}
}
