package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// A web page on an allowed origin can call the API: its preflight is
// answered without the master key, and its responses, errors included,
// are readable. Other origins get no CORS headers, so browsers refuse.
func TestCORSForAllowedOrigins(t *testing.T) {
	const cfg = twoGroups + "server:\n  cors_allowed_origins: [\"https://app.example\"]\n" +
		"general_settings:\n  master_key: " + masterKey + "\n"
	e := newEnv(t, cfg, "primary", "backup")
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`
	tests := []struct {
		name        string
		method      string
		origin      string
		header      http.Header
		status      int
		allowOrigin string // "" means no Access-Control-Allow-Origin
		check       func(t *testing.T, h http.Header)
	}{
		{name: "a preflight from an allowed origin is answered without the key", method: "OPTIONS", origin: "https://app.example",
			header: http.Header{"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"authorization, content-type"}},
			status: 204, allowOrigin: "https://app.example",
			check: func(t *testing.T, h http.Header) {
				if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
					h.Get("Access-Control-Allow-Headers") != "authorization, content-type" {
					t.Fatalf("preflight headers %v", h)
				}
			}},
		{name: "a call from an allowed origin can read breakerd's headers", method: "POST", origin: "https://app.example",
			header: http.Header{"Authorization": {"Bearer " + masterKey}}, status: 200, allowOrigin: "https://app.example",
			check: func(t *testing.T, h http.Header) {
				if !strings.Contains(h.Get("Access-Control-Expose-Headers"), "X-Breakerd-Fallback") || h.Get("X-Breakerd-Provider") == "" {
					t.Fatalf("exposed headers %q", h.Get("Access-Control-Expose-Headers"))
				}
			}},
		{name: "a 401 to an allowed origin is readable", method: "POST", origin: "https://app.example",
			status: 401, allowOrigin: "https://app.example"},
		{name: "another origin gets no CORS headers", method: "POST", origin: "https://evil.example",
			header: http.Header{"Authorization": {"Bearer " + masterKey}}, status: 200},
		{name: "another origin's preflight is not answered", method: "OPTIONS", origin: "https://evil.example",
			header: http.Header{"Access-Control-Request-Method": {"POST"}}, status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.mocks["primary"].Stats().Requests
			req, err := http.NewRequest(tt.method, e.url+"/v1/chat/completions", strings.NewReader(chat))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", tt.origin)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := e.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.allowOrigin {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tt.allowOrigin)
			}
			if tt.method == "OPTIONS" {
				if got := e.mocks["primary"].Stats().Requests; got != before {
					t.Fatal("a preflight reached the upstream")
				}
			}
			if tt.check != nil {
				tt.check(t, resp.Header)
			}
		})
	}
}

func TestNoCORSUnlessConfigured(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	req, _ := http.NewRequest("OPTIONS", e.url+"/v1/chat/completions", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("status %d, Allow-Origin %q: want a plain 405 and no CORS", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}
