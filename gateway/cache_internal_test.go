package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/breakerd/breakerd/config"
)

// The response cache keeps at most maxBytes, the least recently used
// going first; an answer over an eighth of it is not kept; s-maxage asks
// for a younger answer; past its expiry an answer is gone.
func TestAnswersAreBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var a answers
	put := func(key string, size int) {
		a.put(&answer{key: key, body: []byte(strings.Repeat("x", size)), stored: now, expires: now.Add(time.Minute)}, 1000)
	}
	for i := range 12 {
		put(fmt.Sprint(i), 100)
		if i == 5 {
			if _, ok := a.get("0", now, 0); !ok { // 0 is used: 1 is the least recent now
				t.Fatal("0 is gone early")
			}
		}
	}
	if a.bytes > 1000 {
		t.Fatalf("%d bytes kept", a.bytes)
	}
	for key, want := range map[string]bool{"0": true, "1": false, "2": false, "3": true, "11": true} {
		if _, ok := a.get(key, now, 0); ok != want {
			t.Errorf("%s kept: %v, want %v", key, ok, want)
		}
	}
	put("big", 200)
	if _, ok := a.get("big", now, 0); ok {
		t.Error("an answer over an eighth of the cache was kept")
	}
	if _, ok := a.get("11", now.Add(30*time.Second), 10*time.Second); ok {
		t.Error("s-maxage 10s took an answer 30s old")
	}
	if _, ok := a.get("11", now.Add(time.Minute), 0); ok {
		t.Error("an answer past its expiry was given")
	}
}

// A stream's events are kept for the response cache only while they fit
// in what one answer may take (an eighth of the cache): past it, none are.
func TestStreamKeptWithinOneAnswersSize(t *testing.T) {
	c := &call{g: &Gateway{cfg: &config.Config{Cache: &config.Cache{MaxBytes: 800}}}, streamed: []byte{}}
	for range 10 {
		c.keepChunk([]byte("data: 0123456789\n\n")) // 18 bytes: ten are 180
	}
	if len(c.streamed) != 0 || c.streamed != nil {
		t.Fatalf("%d bytes kept past a limit of 100", len(c.streamed))
	}
	c.streamed = []byte{}
	for range 5 {
		c.keepChunk([]byte("data: 0123456789\n\n"))
	}
	if len(c.streamed) != 90 {
		t.Fatalf("%d bytes kept of 90", len(c.streamed))
	}
}

// The response cache's key reads the same request the same however a
// client writes it (field order, spaces, escapes), leaves LiteLLM's own
// parameters out, and tells apart any other difference.
func TestCanonicalRequest(t *testing.T) {
	base := `{"model":"m","messages":[{"role":"user","content":"é"}],"temperature":0.5}`
	for _, tc := range []struct {
		name, body string
		same       bool
	}{
		{"itself", base, true},
		{"another field order, at every depth", `{"temperature":0.5,"messages":[{"content":"é","role":"user"}],"model":"m"}`, true},
		{"Python's spaces", `{"model": "m", "messages": [{"role": "user", "content": "é"}], "temperature": 0.5}`, true},
		{"an escaped character", `{"model":"m","messages":[{"role":"user","content":"\u00e9"}],"temperature":0.5}`, true},
		{"LiteLLM's parameters", `{"model":"m","messages":[{"role":"user","content":"é"}],"temperature":0.5,"cache":{"ttl":5},"tags":["a"],"litellm_session_id":"s1"}`, true},
		{"another prompt", `{"model":"m","messages":[{"role":"user","content":"e"}],"temperature":0.5}`, false},
		{"another temperature", `{"model":"m","messages":[{"role":"user","content":"é"}],"temperature":0.51}`, false},
		{"another parameter", `{"model":"m","messages":[{"role":"user","content":"é"}],"temperature":0.5,"seed":1}`, false},
		{"a list in another order", `{"model":"m","messages":[{"role":"user","content":"é"}],"temperature":0.5,"stop":["b","a"]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(canonicalRequest([]byte(tc.body))) == string(canonicalRequest([]byte(base))); got != tc.same {
				t.Fatalf("same: %v, want %v:\n%s\n%s", got, tc.same, canonicalRequest([]byte(tc.body)), canonicalRequest([]byte(base)))
			}
		})
	}
	if got := string(canonicalRequest([]byte("not json"))); got != "not json" {
		t.Fatalf("a body that is not JSON: %q", got)
	}
}
