package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const cacheConfig = `
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: m2
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: e
    litellm_params: {model: openai/text-embedding-3-small, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
litellm_settings:
  cache: true
  cache_params: {type: local, ttl: 60%s}
`

// LiteLLM's response cache: the same request within the TTL is answered
// again with no upstream call (X-Breakerd-Cache: hit, LiteLLM's
// x-litellm-cache-key), and only the same: another prompt, another model
// group, a stream, or a request whose LiteLLM cache parameter says
// no-cache goes upstream; no-store keeps an answer out; past the TTL the
// answer is gone.
func TestResponseCache(t *testing.T) {
	e := newEnv(t, cacheConfigWith(""), "a")
	ctx := context.Background()
	model := "m"
	ask := func(prompt string, opts ...option.RequestOption) (string, http.Header) {
		t.Helper()
		var hr *http.Response
		out, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)}}, append(opts, option.WithResponseInto(&hr))...)
		if err != nil {
			t.Fatal(err)
		}
		return out.ID, hr.Header
	}
	calls := func() int64 { return e.mocks["a"].Stats().Chat }

	first, h := ask("what is a circuit breaker?")
	if h.Get("X-Breakerd-Cache") != "" || calls() != 1 {
		t.Fatalf("a first request: cache %q, %d calls", h.Get("X-Breakerd-Cache"), calls())
	}
	again, h := ask("what is a circuit breaker?")
	if again != first || h.Get("X-Breakerd-Cache") != "hit" || h.Get("X-Litellm-Cache-Key") == "" || h.Get("X-Breakerd-Deployment") != "m/openai/gpt-4o-mini" || calls() != 1 {
		t.Fatalf("the same request: id %s (first %s), cache %q, key %q, deployment %q, %d calls", again, first,
			h.Get("X-Breakerd-Cache"), h.Get("X-Litellm-Cache-Key"), h.Get("X-Breakerd-Deployment"), calls())
	}
	if _, h := ask("what is a bulkhead?"); h.Get("X-Breakerd-Cache") != "" || calls() != 2 {
		t.Fatalf("another prompt: cache %q, %d calls", h.Get("X-Breakerd-Cache"), calls())
	}
	if _, h := ask("what is a circuit breaker?", option.WithJSONSet("cache", map[string]any{"no-cache": true})); h.Get("X-Breakerd-Cache") != "" ||
		h.Get("X-Breakerd-Ignored-Params") != "" || calls() != 3 {
		t.Fatalf("no-cache: cache %q, ignored %q, %d calls", h.Get("X-Breakerd-Cache"), h.Get("X-Breakerd-Ignored-Params"), calls())
	}
	ask("what is a retry?", option.WithJSONSet("cache", map[string]any{"no-store": true}))
	if _, h := ask("what is a retry?"); h.Get("X-Breakerd-Cache") != "" || calls() != 5 {
		t.Fatalf("after no-store: cache %q, %d calls", h.Get("X-Breakerd-Cache"), calls())
	}
	model = "m2"
	if _, h := ask("what is a circuit breaker?"); h.Get("X-Breakerd-Cache") != "" || calls() != 6 {
		t.Fatalf("another model group: cache %q, %d calls", h.Get("X-Breakerd-Cache"), calls())
	}
	model = "m"
	stream := e.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "m",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("what is a circuit breaker?")}})
	if _, _, err := drain(stream); err != nil || calls() != 7 {
		t.Fatalf("a stream: %v, %d calls", err, calls())
	}
	// Embeddings are cached too.
	for range 2 {
		if _, err := e.client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "e",
			Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("breakers")}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.mocks["a"].Stats().Embeddings; n != 1 {
		t.Fatalf("the same embedding twice: %d calls", n)
	}
	e.clock.Advance(61 * time.Second)
	if _, h := ask("what is a circuit breaker?"); h.Get("X-Breakerd-Cache") != "" || calls() != 8 {
		t.Fatalf("past the TTL: cache %q, %d calls", h.Get("X-Breakerd-Cache"), calls())
	}
}

// cache_params.mode: default_off caches only the requests that ask.
func TestResponseCacheDefaultOff(t *testing.T) {
	e := newEnv(t, cacheConfigWith(", mode: default_off"), "a")
	ask := func(opts ...option.RequestOption) string {
		t.Helper()
		var hr *http.Response
		if _, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "m",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}, append(opts, option.WithResponseInto(&hr))...); err != nil {
			t.Fatal(err)
		}
		return hr.Header.Get("X-Breakerd-Cache")
	}
	use := option.WithJSONSet("cache", map[string]any{"use-cache": true})
	if ask() != "" || ask() != "" || ask(use) != "" || ask(use) != "hit" {
		t.Fatal("default_off: want a hit only for the second request that asks")
	}
}

func cacheConfigWith(params string) string {
	return fmt.Sprintf(cacheConfig, params)
}
