package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/config"
	"github.com/breakerd/breakerd/gateway"
	"github.com/breakerd/breakerd/mockllm"
)

// benchGateway serves a gateway of the config yaml for a benchmark and
// returns its URL.
func benchGateway(b *testing.B, yaml string) string {
	b.Helper()
	cfg, err := config.Parse("b.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	gw, err := gateway.New(gateway.Options{Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(gw.Close)
	srv := httptest.NewServer(gw.Handler())
	b.Cleanup(srv.Close)
	return srv.URL
}

// postLoop posts body to url's chat API once per benchmark iteration,
// reading each answer whole.
func postLoop(b *testing.B, client *http.Client, url, body string) {
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}

// BenchmarkChatRoundTrip measures one non-streaming chat request through
// the gateway to a loopback mock, against the same request sent to the mock
// directly and through the standard library's reverse proxy (the floor a
// gateway's CPU per request is judged against, issue #22).
func BenchmarkChatRoundTrip(b *testing.B) {
	mock := httptest.NewServer(mockllm.New(mockllm.Options{}).Handler())
	defer mock.Close()
	gw := benchGateway(b, `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+mock.URL+`/v1", api_key: sk-bench}
router_settings:
  routing_strategy: ordered
`)
	const body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello, how are you today?"}]}`
	target, _ := url.Parse(mock.URL)
	plain := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	defer plain.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, tc := range []struct{ name, url string }{{"direct", mock.URL}, {"plain_proxy", plain.URL}, {"gateway", gw}} {
		b.Run(tc.name, func(b *testing.B) { postLoop(b, client, tc.url, body) })
	}
}

// BenchmarkStreamRelay measures one streamed chat answer of 200 chunks
// through the gateway, whose route has a fallback: with broken streams
// continued there (the default, each chunk's text kept) and without.
func BenchmarkStreamRelay(b *testing.B) {
	up := mockllm.New(mockllm.Options{})
	up.SetFaults(mockllm.Faults{ReplyWords: 200})
	mock := httptest.NewServer(up.Handler())
	defer mock.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const body = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hello, how are you today?"}]}`
	for _, tc := range []struct{ name, setting string }{{"continuable", ""}, {"not_continued", "  continue_broken_streams: false\n"}} {
		b.Run(tc.name, func(b *testing.B) {
			url := benchGateway(b, `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+mock.URL+`/v1", api_key: sk-bench}
  - model_name: backup
    litellm_params: {model: openai/gpt-4o-mini, api_base: "`+mock.URL+`/v1", api_key: sk-bench}
router_settings:
  fallbacks: [{gpt-4o-mini: [backup]}]
`+tc.setting)
			postLoop(b, client, url, body)
		})
	}
}
