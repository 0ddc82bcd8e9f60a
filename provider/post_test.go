package provider

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// retryingTransport reads a request's body, then sends it again from
// GetBody, as net/http's transport does when a reused connection turns
// out dead, and answers 200 with the two copies' lengths recorded.
type retryingTransport struct{ sent [][]byte }

func (t *retryingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	first, _ := io.ReadAll(r.Body)
	again, err := r.GetBody()
	if err != nil {
		return nil, err
	}
	second, _ := io.ReadAll(again)
	t.sent = append(t.sent, first, second)
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("data: {}\n\n")), Header: http.Header{}}, nil
}

// A stream's upstream request body is sent whole, and again whole for a
// retry inside RoundTrip; once the answer has begun, nothing holds the
// bytes for the transport's sake (a stream's request lives as long as it
// does).
func TestStreamPostBodyIsSentWholeThenLetGo(t *testing.T) {
	buf := []byte(`{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", 10000) + `"}]}`)
	hreq, err := new(upstreamURLs).post(context.Background(), "http://upstream.invalid/v1/chat/completions", buf, true)
	if err != nil {
		t.Fatal(err)
	}
	if hreq.ContentLength != int64(len(buf)) {
		t.Fatalf("ContentLength %d, want %d", hreq.ContentLength, len(buf))
	}
	rt := &retryingTransport{}
	body, _, err := roundTrip(context.Background(), rt, hreq, true, func(s string) string { return s },
		func(*http.Response) *Error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	body.Close()
	if len(rt.sent) != 2 {
		t.Fatalf("the transport sent %d copies, want 2", len(rt.sent))
	}
	for i, sent := range rt.sent {
		if !bytes.Equal(sent, buf) {
			t.Fatalf("copy %d sent %d bytes, want the %d of the body", i, len(sent), len(buf))
		}
	}
	if b := hreq.Body.(*postBody); b.rest != nil || *b.src != nil {
		t.Fatalf("after RoundTrip the request still holds %d + %d bytes of its body", len(b.rest), len(*b.src))
	}
}

// countingConn counts the writes made to a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// A whole answer's request goes to the upstream in one write, headers and
// body together (net/http flushes the headers of a body it does not know
// to be in memory first: two writes and two packets per call), and
// arrives whole, on a new connection and on a reused one.
func TestWholeAnswerRequestIsOneWrite(t *testing.T) {
	buf := []byte(`{"model":"m","messages":[{"role":"user","content":"Hello, how are you today?"}]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		if !bytes.Equal(got, buf) {
			w.WriteHeader(http.StatusBadRequest)
		}
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()
	var writes atomic.Int64
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return countingConn{Conn: c, writes: &writes}, err
	}}
	defer tr.CloseIdleConnections()
	for i, conn := range []string{"new connection", "reused connection"} {
		hreq, err := new(upstreamURLs).post(context.Background(), srv.URL+"/v1/chat/completions", buf, false)
		if err != nil {
			t.Fatal(err)
		}
		before := writes.Load()
		_, data, err := roundTrip(context.Background(), tr, hreq, false, func(s string) string { return s },
			func(resp *http.Response) *Error { return &Error{Status: resp.StatusCode} }, nil)
		if err != nil {
			t.Fatalf("%s: %v (the upstream got the body whole only on 200)", conn, err)
		}
		if string(data) != "{}" {
			t.Fatalf("%s: answer %q", conn, data)
		}
		if n := writes.Load() - before; n != 1 {
			t.Fatalf("%s (call %d): the request took %d writes, want 1", conn, i+1, n)
		}
	}
}

// Each upstream URL is parsed once, as http.NewRequest parses it, and its
// requests share it; a URL that does not parse is an error every time.
func TestUpstreamURLsParsedOnce(t *testing.T) {
	var u upstreamURLs
	for _, raw := range []string{"http://upstream.invalid:/v1/chat/completions", "https://h.invalid/openai/deployments/d/chat/completions?api-version=2024-10-21"} {
		want, err := http.NewRequest(http.MethodPost, raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, errA := u.post(context.Background(), raw, []byte(`{}`), false)
		b, errB := u.post(context.Background(), raw, []byte(`{}`), true)
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if a.URL != b.URL {
			t.Errorf("%s: parsed twice", raw)
		}
		if a.URL.String() != want.URL.String() || a.Host != want.Host || a.Method != http.MethodPost {
			t.Errorf("%s: URL %s host %q, http.NewRequest %s host %q", raw, a.URL, a.Host, want.URL, want.Host)
		}
	}
	for range 2 {
		if _, err := u.post(context.Background(), "http://bad host/v1", nil, false); err == nil {
			t.Fatal("a URL that does not parse made a request")
		}
	}
}
