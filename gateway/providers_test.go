package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/breakerd/breakerd/config"
)

// Every provider in the table that breakerd can call gets a chat request
// on the right path, with the key in the right header, from a config
// written as LiteLLM's docs write it (api_base pointing at a loopback
// server standing in for the provider).
func TestEveryProviderInTheTableRoutesChat(t *testing.T) {
	type seen struct{ path, auth, apiKey, xAPIKey, version string }
	for _, p := range config.Providers() {
		if p.Unsupported != "" {
			continue
		}
		t.Run(p.Name, func(t *testing.T) {
			var mu sync.Mutex
			var got seen
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = seen{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("api-key"), r.Header.Get("x-api-key"),
					r.URL.Query().Get("api-version")}
				mu.Unlock()
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				if p.Dialect == config.DialectAnthropic {
					_, _ = w.Write([]byte(`{"id":"m","type":"message","role":"assistant","model":"x","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`))
					return
				}
				_, _ = w.Write([]byte(`{"id":"x","object":"chat.completion","model":"x","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`))
			}))
			defer upstream.Close()
			resp, _ := chatOnce(t, "model_list:\n  - model_name: m\n    litellm_params:\n      model: "+p.Name+"/some-model\n"+
				"      api_base: "+upstream.URL+"\n      api_key: key-for-"+p.Name+"\n")
			if resp.StatusCode != 200 || resp.Header.Get("X-Breakerd-Provider") != p.Name {
				t.Fatalf("status %d provider %q", resp.StatusCode, resp.Header.Get("X-Breakerd-Provider"))
			}
			key := "key-for-" + p.Name
			want := seen{path: p.PathSuffix + "/chat/completions", auth: "Bearer " + key}
			switch p.Dialect {
			case config.DialectAzure:
				want = seen{path: "/openai/deployments/some-model/chat/completions", apiKey: key, version: config.AzureDefaultAPIVersion}
			case config.DialectAnthropic:
				want = seen{path: "/v1/messages", xAPIKey: key}
			}
			mu.Lock()
			defer mu.Unlock()
			if got != want {
				t.Fatalf("upstream saw %+v, want %+v", got, want)
			}
		})
	}
}
