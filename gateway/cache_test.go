package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/breakerd/breakerd/mockllm"
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

// A stream's answer is kept too, once it has ended well, and given again
// as the same stream; a stream that broke, or whose request said
// no-store, is not kept.
func TestResponseCacheKeepsStreams(t *testing.T) {
	e := newEnv(t, cacheConfigWith(""), "a")
	calls := func() int64 { return e.mocks["a"].Stats().Chat }
	stream := func(prompt string, opts ...option.RequestOption) (openai.ChatCompletionAccumulator, int, http.Header, error) {
		t.Helper()
		var hr *http.Response
		s := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "m",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)}}, append(opts, option.WithResponseInto(&hr))...)
		acc, n, err := drain(s)
		<-e.done // the request has ended, its answer kept (the client can read the end before)
		if hr == nil {
			return acc, n, nil, err
		}
		return acc, n, hr.Header, err
	}
	first, n1, h, err := stream("what is a circuit breaker?")
	if err != nil || h.Get("X-Breakerd-Cache") != "" || calls() != 1 {
		t.Fatalf("a first stream: %v, cache %q, %d calls", err, h.Get("X-Breakerd-Cache"), calls())
	}
	again, n2, h, err := stream("what is a circuit breaker?")
	if err != nil || h.Get("X-Breakerd-Cache") != "hit" || h.Get("Content-Type") != "text/event-stream" || calls() != 1 {
		t.Fatalf("the same stream: %v, cache %q, content type %q, %d calls", err, h.Get("X-Breakerd-Cache"), h.Get("Content-Type"), calls())
	}
	if again.ID != first.ID || n2 != n1 || len(again.Choices) != 1 || again.Choices[0].Message.Content != first.Choices[0].Message.Content {
		t.Fatalf("the stream given again: id %s, %d chunks, %+v; first: id %s, %d chunks, %+v", again.ID, n2, again.Choices, first.ID, n1, first.Choices)
	}

	e.mocks["a"].SetFaults(mockllm.Faults{CutAfter: 2})
	if _, _, _, err := stream("what is a bulkhead?"); err == nil {
		t.Fatal("a cut stream ended well")
	}
	e.mocks["a"].SetFaults(mockllm.Faults{})
	if _, _, h, err := stream("what is a bulkhead?"); err != nil || h.Get("X-Breakerd-Cache") != "" || calls() != 3 {
		t.Fatalf("after a cut stream: %v, cache %q, %d calls", err, h.Get("X-Breakerd-Cache"), calls())
	}

	stream("what is a retry?", option.WithJSONSet("cache", map[string]any{"no-store": true}))
	if _, _, h, err := stream("what is a retry?"); err != nil || h.Get("X-Breakerd-Cache") != "" || calls() != 5 {
		t.Fatalf("after no-store: %v, cache %q, %d calls", err, h.Get("X-Breakerd-Cache"), calls())
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

// The passwords of the Redis that keeps answers, and of the fleet's, are
// secrets: redacted wherever the gateway's text goes.
func TestRedisPasswordsAreRedacted(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
router_settings: {redis_host: 127.0.0.1, redis_password: fleet-redis-secret}
litellm_settings:
  cache: true
  cache_params: {type: redis, url: "redis://:cache-redis-secret@cache.internal:6379"}
`, "a")
	got := e.gw.Redactor().Redact("dial fleet-redis-secret; redis://:cache-redis-secret@cache.internal:6379")
	if strings.Contains(got, "fleet-redis-secret") || strings.Contains(got, "cache-redis-secret") {
		t.Fatalf("redacted: %s", got)
	}
}

// An answer a request's fallback object made (its own messages in place
// of the request's) is not kept under the request's key: the same
// request later is asked again.
func TestResponseCacheSkipsFallbackObjectsAnswers(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: backup
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_B}/v1", api_key: sk-b-secret}
router_settings:
  num_retries: 0
litellm_settings:
  cache: true
  cache_params: {type: local, ttl: 60}
`, "a", "b")
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	body := `{"model":"m","messages":[{"role":"user","content":"the original"}],"fallbacks":[{"model":"backup","messages":[{"role":"user","content":"another"}]}]}`
	if status, _, b := e.post("/v1/chat/completions", body); status != 200 {
		t.Fatalf("status %d: %v", status, b)
	}
	e.mocks["a"].SetFaults(mockllm.Faults{})
	if status, h, _ := e.post("/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"the original"}]}`); status != 200 ||
		h.Get("X-Breakerd-Cache") == "hit" || e.mocks["a"].Stats().Chat != 2 {
		t.Fatalf("status %d, cache %q, calls to m %d: the fallback object's answer was given for the request", status, h.Get("X-Breakerd-Cache"), e.mocks["a"].Stats().Chat)
	}
}

// LiteLLM's caching_groups: model groups in one share their answers (an
// OpenAI and an Azure deployment of one model), whichever the request
// names; a group outside keeps its own.
func TestCachingGroupsShareAnswers(t *testing.T) {
	for _, groups := range []string{`[[m, m2]]`, `['("m", "m2")']`} { // a list, and LiteLLM's Python tuple
		t.Run(groups, func(t *testing.T) {
			e := newEnv(t, strings.Replace(cacheConfigWith(""), "litellm_settings:", "  - model_name: m3\n    litellm_params: {model: openai/gpt-4o-mini, api_base: \"${MOCK_A}/v1\", api_key: sk-a-secret}\n"+
				"router_settings:\n  caching_groups: "+groups+"\nlitellm_settings:", 1), "a")
			ask := func(model string) http.Header {
				t.Helper()
				var hr *http.Response
				if _, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: model,
					Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("what is a circuit breaker?")}}, option.WithResponseInto(&hr)); err != nil {
					t.Fatal(err)
				}
				return hr.Header
			}
			ask("m")
			if h := ask("m2"); h.Get("X-Breakerd-Cache") != "hit" || e.mocks["a"].Stats().Chat != 1 {
				t.Fatalf("m2 after m: cache %q, %d calls", h.Get("X-Breakerd-Cache"), e.mocks["a"].Stats().Chat)
			}
			if h := ask("m3"); h.Get("X-Breakerd-Cache") != "" || e.mocks["a"].Stats().Chat != 2 {
				t.Fatalf("m3, in no caching group: cache %q, %d calls", h.Get("X-Breakerd-Cache"), e.mocks["a"].Stats().Chat)
			}
		})
	}
}
