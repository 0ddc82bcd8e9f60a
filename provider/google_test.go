package provider

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakerd/breakerd/config"
)

// A call that waits for another's token trade gives up when its own
// context ends, rather than waiting out a slow token endpoint.
func TestGoogleTokensWaitAsLongAsTheCall(t *testing.T) {
	g := &googleTokens{token: newRenewed(func(string) {}), redact: func(s string) string { return s }}
	g.token.turn <- struct{}{} // a trade in progress
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := g.Token(ctx)
	var perr *Error
	if !errors.As(err, &perr) || !perr.Canceled {
		t.Fatalf("%v, want the call's cancelation", err)
	}
}

// With no key, a Vertex AI deployment's calls carry the tokens the
// metadata server gives for the machine's service account, asked once
// for many calls; a server without an account is the deployment's
// authentication failure, and one that answers nothing fails at its bound.
func TestVertexTokensFromTheMetadataServer(t *testing.T) {
	var asked atomic.Int64
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if r.Header.Get("Metadata-Flavor") != "Google" || r.URL.Path != "/computeMetadata/v1/instance/service-accounts/default/token" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"ya29.metadata-token","expires_in":3599,"token_type":"Bearer"}`))
	}))
	defer meta.Close()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer ya29.metadata-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"id":"x","object":"chat.completion","model":"google/gemini-2.5-pro","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`))
	}))
	defer upstream.Close()
	p, err := New(config.Deployment{Provider: "vertex_ai", Dialect: config.DialectOpenAI, Model: "google/gemini-2.5-pro",
		APIBase: upstream.URL, GoogleMetadata: meta.URL}, nil, &learned{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := p.Send(context.Background(), &Request{Op: Chat, Model: "g", Body: []byte(`{"model":"g","messages":[{"role":"user","content":"hi"}]}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if asked.Load() != 1 {
		t.Fatalf("the metadata server was asked %d times, want once", asked.Load())
	}

	none := &googleTokens{metadata: meta.URL + "/none", rt: http.DefaultTransport, redact: func(s string) string { return s }, token: newRenewed(func(string) {}), wait: time.Second}
	var e *Error
	if _, err := none.Token(context.Background()); !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
		t.Fatalf("no account: %v", err)
	}
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	slow := &googleTokens{metadata: hang.URL, rt: http.DefaultTransport, redact: func(s string) string { return s }, token: newRenewed(func(string) {}), wait: time.Millisecond}
	if _, err := slow.Token(context.Background()); !errors.As(err, &e) || !e.Timeout {
		t.Fatalf("a server that answers nothing: %v, want a timeout", err)
	}
}
