package provider

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
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

// An upstream request's body is sent whole, and again whole for a retry
// inside RoundTrip; once the answer has begun, nothing holds the bytes
// for the transport's sake (a stream's request lives as long as it does).
func TestPostBodyIsSentWholeThenLetGo(t *testing.T) {
	buf := []byte(`{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", 10000) + `"}]}`)
	hreq, err := newPost(context.Background(), "http://upstream.invalid/v1/chat/completions", buf)
	if err != nil {
		t.Fatal(err)
	}
	if hreq.ContentLength != int64(len(buf)) {
		t.Fatalf("ContentLength %d, want %d", hreq.ContentLength, len(buf))
	}
	rt := &retryingTransport{}
	body, _, err := roundTrip(context.Background(), rt, hreq, true, func(s string) string { return s },
		func(*http.Response) *Error { return nil })
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
