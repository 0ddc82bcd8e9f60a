package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// target is a provider's own API behind a pass-through endpoint: it
// records what it got, and answers with status.
type target struct {
	mu     sync.Mutex
	got    []*http.Request
	bodies []string
	status int
}

func (tg *target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	tg.mu.Lock()
	tg.got, tg.bodies = append(tg.got, r.Clone(r.Context())), append(tg.bodies, string(b))
	status := tg.status
	tg.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, "/stream") {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{"data: one\n\n", "data: two\n\n"} {
			_, _ = io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"results":[{"index":0}]}`)
}

func (tg *target) last() (*http.Request, string) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.got[len(tg.got)-1], tg.bodies[len(tg.bodies)-1]
}

func (tg *target) calls() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.got)
}

// LiteLLM's pass_through_endpoints: a request to the path (and below it,
// with include_subpath) is relayed to the target as it comes, with the
// configured headers (the target's key) and, with forward_headers, the
// client's; auth asks for breakerd's master key (never relayed), and
// without it none is asked; the endpoint has a breaker of its own, whose
// open circuit refuses at once.
func TestPassThroughEndpoints(t *testing.T) {
	tg := &target{status: 200}
	srv := httptest.NewServer(tg)
	t.Cleanup(srv.Close)
	e := newEnv(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
router_settings:
  circuit_breaker: {failure_threshold: 2, recovery_timeout: 30}
general_settings:
  master_key: sk-breakerd-master-key
  pass_through_endpoints:
    - path: /cohere
      target: `+srv.URL+`/v1?source=breakerd
      include_subpath: true
      headers: {Authorization: "bearer co-secret-key-123", X-Client-Name: breakerd}
    - path: /vendor/search
      target: `+srv.URL+`/search
      forward_headers: true
      auth: true
`, "a")
	send := func(method, path, body string, header map[string]string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}

	status, _, body := send(http.MethodPost, "/cohere/rerank?top_n=2", `{"query":"q"}`, map[string]string{"Content-Type": "application/json", "X-Secret-Of-Client": "no"})
	got, sent := tg.last()
	if status != 200 || body != `{"results":[{"index":0}]}` || got.URL.Path != "/v1/rerank" || got.URL.RawQuery != "source=breakerd&top_n=2" ||
		sent != `{"query":"q"}` || got.Header.Get("Authorization") != "bearer co-secret-key-123" || got.Header.Get("X-Client-Name") != "breakerd" ||
		got.Header.Get("X-Secret-Of-Client") != "" || got.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("relayed %d %q; the target got %s %s?%s %q, headers %v", status, body, got.Method, got.URL.Path, got.URL.RawQuery, sent, got.Header)
	}
	if status, h, body := send(http.MethodGet, "/cohere/stream", "", nil); status != 200 || body != "data: one\n\ndata: two\n\n" || h.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("a stream: %d %q %v", status, body, h)
	}

	if status, _, _ := send(http.MethodPost, "/vendor/search", `{}`, nil); status != 401 {
		t.Fatalf("auth: true without the master key: %d, want 401", status)
	}
	n := tg.calls()
	status, _, _ = send(http.MethodPost, "/vendor/search", `{}`, map[string]string{"Authorization": "Bearer sk-breakerd-master-key", "X-Team": "search"})
	got, _ = tg.last()
	if status != 200 || tg.calls() != n+1 || got.Header.Get("Authorization") != "" || got.Header.Get("X-Team") != "search" {
		t.Fatalf("auth: true with the key: %d; the target got Authorization %q, X-Team %q", status, got.Header.Get("Authorization"), got.Header.Get("X-Team"))
	}
	if status, _, _ := send(http.MethodPost, "/vendor/search/deeper", `{}`, map[string]string{"Authorization": "Bearer sk-breakerd-master-key"}); status != 404 {
		t.Fatalf("below a path without include_subpath: %d, want breakerd's 404", status)
	}

	tg.mu.Lock()
	tg.status = 502
	tg.mu.Unlock()
	for range 2 {
		send(http.MethodPost, "/cohere/rerank", `{}`, nil)
	}
	n = tg.calls()
	status, h, body := send(http.MethodPost, "/cohere/rerank", `{}`, nil)
	if status != 503 || tg.calls() != n || h.Get("Retry-After") == "" || !strings.Contains(body, "the circuit to") {
		t.Fatalf("after two 502s: %d %q (Retry-After %q), %d more calls to the target", status, body, h.Get("Retry-After"), tg.calls()-n)
	}
	if strings.Contains(e.logs.String(), "co-secret-key-123") {
		t.Fatal("the target's key reached the log")
	}
}
