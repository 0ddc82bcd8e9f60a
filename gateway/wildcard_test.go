package gateway_test

import (
	"strings"
	"testing"

	"github.com/breakerd/breakerd/mockllm"
)

// LiteLLM's wildcard deployments: model_name "openai/*" with model
// "openai/*" serves any openai/<model>, sending <model> upstream, with a
// breaker per resolved model; "*" with "*" serves any model its name gives
// a provider for. The literal pattern is not a model.
func TestWildcardDeployments(t *testing.T) {
	const cfg = `
model_list:
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_base: "${MOCK_A}/v1", api_key: sk-wildcard-key-a}
  - model_name: "*"
    litellm_params: {model: "*", api_base: "${MOCK_B}/v1", api_key: sk-wildcard-key-b}
router_settings:
  retry_backoff: 1ms
`
	e := newEnv(t, cfg, "a", "b")
	for _, tc := range []struct {
		model, upstreamModel, mock, provider, breaker string
	}{
		{"openai/gpt-4o", "gpt-4o", "a", "openai", "openai/gpt-4o/openai/gpt-4o:chat"},
		{"openai/gpt-4o-mini", "gpt-4o-mini", "a", "openai", "openai/gpt-4o-mini/openai/gpt-4o-mini:chat"},
		{"anthropic/claude-3-5-sonnet-latest", "claude-3-5-sonnet-latest", "b", "anthropic", "anthropic/claude-3-5-sonnet-latest/anthropic/claude-3-5-sonnet-latest:chat"},
		{"gpt-4.1", "gpt-4.1", "b", "openai", "gpt-4.1/openai/gpt-4.1:chat"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			before := e.mocks[tc.mock].Stats().Requests
			out, h, err := e.chat(tc.model)
			if err != nil {
				t.Fatal(err)
			}
			if out.Model != tc.upstreamModel || h.Get("X-Breakerd-Provider") != tc.provider || e.mocks[tc.mock].Stats().Requests != before+1 {
				t.Fatalf("model %q provider %q: want %q from mock %s via %s", out.Model, h.Get("X-Breakerd-Provider"), tc.upstreamModel, tc.mock, tc.provider)
			}
			if _, ok := e.gw.Registry().Lookup(tc.breaker); !ok {
				t.Fatalf("no breaker %s in %v", tc.breaker, e.gw.Registry().Names())
			}
		})
	}
	t.Run("a resolved model's breaker trips alone", func(t *testing.T) {
		e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
		for i := 0; i < 5; i++ {
			_, _, _ = e.chat("openai/gpt-4o")
		}
		if st := e.breaker("openai/gpt-4o/openai/gpt-4o:chat").State().String(); st != "open" {
			t.Fatalf("state %s", st)
		}
		if st := e.breaker("openai/gpt-4o-mini/openai/gpt-4o-mini:chat").State().String(); st != "closed" {
			t.Fatalf("the other model's breaker is %s", st)
		}
		e.mocks["a"].SetFaults(mockllm.Faults{})
	})
	t.Run("the pattern itself is not a model", func(t *testing.T) {
		status, _, body := e.post("/v1/chat/completions", `{"model":"openai/*","messages":[{"role":"user","content":"x"}]}`)
		if status != 404 || !strings.Contains(strings.ToLower(body["error"].(map[string]any)["message"].(string)), "names no model") {
			t.Fatalf("status %d %v", status, body)
		}
	})
	t.Run("a name with no provider to infer", func(t *testing.T) {
		status, _, body := e.post("/v1/chat/completions", `{"model":"mystery-model","messages":[{"role":"user","content":"x"}]}`)
		if status != 404 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "cannot tell the provider") {
			t.Fatalf("status %d %v", status, body)
		}
	})
	t.Run("Vertex AI through the catch-all", func(t *testing.T) {
		status, _, body := e.post("/v1/chat/completions", `{"model":"vertex_ai/gemini-2.5-pro","messages":[{"role":"user","content":"x"}]}`)
		if status != 404 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "is called through a deployment of its own") {
			t.Fatalf("status %d %v", status, body)
		}
	})
	t.Run("a video model, which serves no chat", func(t *testing.T) {
		status, _, body := e.post("/v1/chat/completions", `{"model":"openai/veo-3.1-generate-001","messages":[{"role":"user","content":"x"}]}`)
		if status != 400 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "does not serve chat: its deployments are models for videos only") {
			t.Fatalf("status %d %v", status, body)
		}
	})
	t.Run("the models list shows the patterns", func(t *testing.T) {
		ids := strings.Join(e.modelIDs(), ",")
		if !strings.Contains(ids, "openai/*") || !strings.Contains(ids, "*") {
			t.Fatalf("models %s", ids)
		}
	})
}

// Fallbacks between models that wildcards serve work, as in LiteLLM, and
// the most specific wildcard serves a model: a
// request for a model a catch-all serves falls back, when its provider
// fails, to the model named in fallbacks, which another wildcard serves;
// a prompt too long for it goes to its context_window_fallbacks; and a
// client's own fallbacks may name such a model.
func TestFallbacksBetweenWildcardModels(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: "*"
    litellm_params: {model: "openai/*", api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: "anthropic/*"
    litellm_params: {model: "anthropic/*", api_base: "${MOCK_B}", api_key: sk-ant-b-secret}
router_settings:
  num_retries: 0
  fallbacks: [{gpt-4o: [anthropic/claude-3-5-haiku-20241022]}]
  context_window_fallbacks: [{gpt-4o-mini: [anthropic/claude-3-5-haiku-20241022]}]
`, "a", "b")
	// The most specific pattern serves a model, as in LiteLLM: not the
	// catch-all listed first.
	if _, h, err := e.chat("anthropic/claude-3-5-haiku-20241022"); err != nil || h.Get("X-Breakerd-Provider") != "anthropic" {
		t.Fatalf("anthropic/...: served by %q, %v", h.Get("X-Breakerd-Provider"), err)
	}
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	if _, h, err := e.chat("gpt-4o"); err != nil || h.Get("X-Breakerd-Provider") != "anthropic" || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("gpt-4o with OpenAI down: served by %q (fallback %q), %v", h.Get("X-Breakerd-Provider"), h.Get("X-Breakerd-Fallback"), err)
	}
	e.mocks["a"].SetFaults(mockllm.Faults{ContextTokens: 1})
	status, h, body := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a prompt too long"}]}`)
	if status != 200 || h.Get("X-Breakerd-Provider") != "anthropic" {
		t.Fatalf("gpt-4o-mini, too long for it: %d, served by %q: %v", status, h.Get("X-Breakerd-Provider"), body)
	}
	e.mocks["a"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	status, h, body = e.post("/v1/chat/completions", `{"model":"gpt-4.1","fallbacks":["anthropic/claude-3-5-haiku-20241022"],"messages":[{"role":"user","content":"hi"}]}`)
	if status != 200 || h.Get("X-Breakerd-Provider") != "anthropic" {
		t.Fatalf("a client's fallbacks to a wildcard's model: %d, served by %q: %v", status, h.Get("X-Breakerd-Provider"), body)
	}
}
