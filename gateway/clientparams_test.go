package gateway_test

import (
	"strings"
	"testing"

	"github.com/breakerd/breakerd/mockllm"
)

// LiteLLM's own request parameters never reach a provider, which would
// refuse them: breakerd honours fallbacks, disable_fallbacks, num_retries
// and timeout, leaves
// the others out (naming them in X-Breakerd-Ignored-Params), and refuses
// mock_response rather than calling the provider for real.
func TestLiteLLMRequestParameters(t *testing.T) {
	noFallbacks := strings.Replace(twoGroups, "  fallbacks: [claude-3-5-sonnet]\n", "  num_retries: 2\n", 1)
	const msgs = `"messages":[{"role":"user","content":"x"}]`
	t.Run("fallbacks and num_retries are honoured, and not sent upstream", func(t *testing.T) {
		e := newEnv(t, noFallbacks, "primary", "backup")
		e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
		status, h, b := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","fallbacks":["claude-3-5-sonnet"],"num_retries":0,"tags":["t1"],"caching":false,`+msgs+`}`)
		if status != 200 || h.Get("X-Breakerd-Fallback") != "true" || h.Get("X-Breakerd-Attempts") != "2" || h.Get("X-Breakerd-Ignored-Params") != "tags, caching" {
			t.Fatalf("status %d, headers %v, body %v: want the request's fallback after one try, tags and caching named as ignored", status, h, b)
		}
		for name, m := range e.mocks {
			if sent := m.LastBody(); strings.Contains(sent, "fallbacks") || strings.Contains(sent, "num_retries") || strings.Contains(sent, "tags") || strings.Contains(sent, "caching") {
				t.Fatalf("%s got %s: LiteLLM's parameters went upstream", name, sent)
			}
		}
	})
	t.Run("disable_fallbacks keeps the request on its own group, and is not sent upstream", func(t *testing.T) {
		for _, tc := range []struct {
			body   string
			status int
		}{
			{`{"model":"gpt-4o-mini","disable_fallbacks":true,"num_retries":0,` + msgs + `}`, 503},
			{`{"model":"gpt-4o-mini","disable_fallbacks":true,"fallbacks":["claude-3-5-sonnet"],"num_retries":0,` + msgs + `}`, 503},
			{`{"model":"gpt-4o-mini","disable_fallbacks":false,"num_retries":0,` + msgs + `}`, 200},
		} {
			e := newEnv(t, twoGroups, "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
			status, _, b := e.post("/v1/chat/completions", tc.body)
			if backup := e.mocks["backup"].Stats().Requests; status != tc.status || (tc.status == 503) != (backup == 0) {
				t.Fatalf("%s: status %d (%v), backup calls %d; want %d", tc.body, status, b, backup, tc.status)
			}
			if sent := e.mocks["primary"].LastBody(); strings.Contains(sent, "disable_fallbacks") {
				t.Fatalf("primary got %s", sent)
			}
		}
	})
	t.Run("a fallback given as an object replaces the request's fields for its attempts", func(t *testing.T) {
		e := newEnv(t, noFallbacks, "primary", "backup")
		e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
		status, _, b := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","num_retries":0,"messages":[{"role":"user","content":"the long original"}],`+
			`"fallbacks":[{"model":"claude-3-5-sonnet","messages":[{"role":"user","content":"a short summary"}],"temperature":0}]}`)
		if status != 200 {
			t.Fatalf("status %d: %v", status, b)
		}
		if sent := e.mocks["backup"].LastBody(); !strings.Contains(sent, "a short summary") || strings.Contains(sent, "the long original") || !strings.Contains(sent, `"temperature":0`) {
			t.Fatalf("the fallback got %s: want the object's messages and temperature", sent)
		}
		if sent := e.mocks["primary"].LastBody(); !strings.Contains(sent, "the long original") {
			t.Fatalf("the request's own model got %s", sent)
		}
		// An alias's fallback object goes with its group.
		aliased := strings.Replace(noFallbacks, "router_settings:\n", "router_settings:\n  model_group_alias: {sonnet: claude-3-5-sonnet}\n", 1)
		e = newEnv(t, aliased, "primary", "backup")
		e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
		status, _, b = e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","num_retries":0,"messages":[{"role":"user","content":"the long original"}],`+
			`"fallbacks":[{"model":"sonnet","messages":[{"role":"user","content":"a short summary"}]}]}`)
		if sent := e.mocks["backup"].LastBody(); status != 200 || !strings.Contains(sent, "a short summary") {
			t.Fatalf("status %d (%v); the alias's fallback got %s", status, b, sent)
		}
		// A Messages request to an OpenAI fallback: the object's fields
		// are Anthropic's, translated with the rest.
		e = newEnv(t, noFallbacks, "primary", "backup")
		e.mocks["backup"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
		status, _, b = e.post("/v1/messages", `{"model":"claude-3-5-sonnet","max_tokens":100,"num_retries":0,"messages":[{"role":"user","content":"the long original"}],`+
			`"fallbacks":[{"model":"gpt-4o-mini","max_tokens":7,"messages":[{"role":"user","content":"a short summary"}]}]}`)
		if sent := e.mocks["primary"].LastBody(); status != 200 || !strings.Contains(sent, "a short summary") || !strings.Contains(sent, "7") {
			t.Fatalf("status %d (%v); the OpenAI fallback got %s", status, b, sent)
		}
	})
	t.Run("the Responses and Messages APIs take them too", func(t *testing.T) {
		e := newEnv(t, noFallbacks, "primary", "backup")
		e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
		status, h, b := e.post("/v1/responses", `{"model":"gpt-4o-mini","input":"hi","fallbacks":["claude-3-5-sonnet"],"num_retries":0}`)
		if status != 200 || h.Get("X-Breakerd-Fallback") != "true" || e.mocks["primary"].Stats().Requests != 1 {
			t.Fatalf("responses: status %d, fallback %q, primary calls %d: %v", status, h.Get("X-Breakerd-Fallback"), e.mocks["primary"].Stats().Requests, b)
		}
		if sent := e.mocks["primary"].LastBody(); strings.Contains(sent, "fallbacks") || strings.Contains(sent, "num_retries") {
			t.Fatalf("the primary got %s", sent)
		}
		e = newEnv(t, twoGroups, "primary", "backup")
		e.mocks["backup"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
		status, _, b = e.post("/v1/messages", `{"model":"claude-3-5-sonnet","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"disable_fallbacks":true,"num_retries":0}`)
		if status == 200 || e.mocks["backup"].Stats().Requests != 1 {
			t.Fatalf("messages: status %d, backup calls %d: %v", status, e.mocks["backup"].Stats().Requests, b)
		}
		if sent := e.mocks["backup"].LastBody(); strings.Contains(sent, "disable_fallbacks") || strings.Contains(sent, "num_retries") {
			t.Fatalf("Anthropic's upstream got %s", sent)
		}
	})
	t.Run("the config's retries without num_retries", func(t *testing.T) {
		e := newEnv(t, noFallbacks, "primary", "backup")
		e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
		if status, _, _ := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini",`+msgs+`}`); status != 503 || e.mocks["primary"].Stats().Chat != 3 {
			t.Fatalf("status %d, primary calls %d: want 1 try + the config's 2 retries, no fallback", status, e.mocks["primary"].Stats().Chat)
		}
	})
	t.Run("a deployment's num_retries replaces the router's, and the request's wins over both", func(t *testing.T) {
		cfg := strings.Replace(noFallbacks, "      api_key: sk-primary-secret-key", "      api_key: sk-primary-secret-key\n      num_retries: 0", 1)
		for _, tc := range []struct {
			body  string
			calls int64
		}{{`{"model":"gpt-4o-mini",` + msgs + `}`, 1}, {`{"model":"gpt-4o-mini","num_retries":1,` + msgs + `}`, 2}} {
			e := newEnv(t, cfg, "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
			if status, _, _ := e.post("/v1/chat/completions", tc.body); status != 503 || e.mocks["primary"].Stats().Chat != tc.calls {
				t.Fatalf("%s: status %d, primary calls %d; want %d", tc.body, status, e.mocks["primary"].Stats().Chat, tc.calls)
			}
		}
	})
	t.Run("timeout shortens the request's deadline", func(t *testing.T) {
		e := newEnv(t, noFallbacks, "primary", "backup")
		e.mocks["primary"].SetFaults(mockllm.Faults{Hang: true})
		status, _, b := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","timeout":0.05,`+msgs+`}`)
		msg, _ := b["error"].(map[string]any)["message"].(string)
		if status != 503 || !strings.Contains(msg, "request deadline exceeded") || strings.Contains(e.mocks["primary"].LastBody(), "timeout") {
			t.Fatalf("status %d, message %q, upstream got %s: want the request's own deadline, and no timeout sent upstream", status, msg, e.mocks["primary"].LastBody())
		}
	})
	for _, tc := range []struct{ name, body, want string }{
		{"mock_response is refused, not called for real", `{"model":"gpt-4o-mini","mock_response":"hi",` + msgs + `}`, "mock_response is LiteLLM's made-up answer"},
		{"a fallback that is no model", `{"model":"gpt-4o-mini","fallbacks":["nope"],` + msgs + `}`, "fallbacks: the model `nope` does not exist"},
		{"fallbacks of the wrong type", `{"model":"gpt-4o-mini","fallbacks":"claude",` + msgs + `}`, "fallbacks must be a list of model names"},
		{"num_retries of the wrong type", `{"model":"gpt-4o-mini","num_retries":-1,` + msgs + `}`, "num_retries must be a whole number from 0 to 100"},
		{"disable_fallbacks of the wrong type", `{"model":"gpt-4o-mini","disable_fallbacks":"yes",` + msgs + `}`, "disable_fallbacks must be true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, noFallbacks, "primary", "backup")
			status, _, b := e.post("/v1/chat/completions", tc.body)
			msg, _ := b["error"].(map[string]any)["message"].(string)
			if status != 400 || !strings.Contains(msg, tc.want) || e.mocks["primary"].Stats().Requests != 0 {
				t.Fatalf("status %d, message %q, upstream calls %d: want 400 saying %q and no call", status, msg, e.mocks["primary"].Stats().Requests, tc.want)
			}
		})
	}
}

// LiteLLM's allowed_model_region keeps a request on the deployments in
// that region (litellm_params.region_name): never one elsewhere, not even
// as a fallback, and none left is a 400 that says so.
func TestAllowedModelRegion(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: chat
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_EU}/v1", api_key: sk-eu-secret, region_name: eu}
  - model_name: chat
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_US}/v1", api_key: sk-us-secret, region_name: US}
  - model_name: other
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_US}/v1", api_key: sk-us-secret}
router_settings:
  fallbacks: [{chat: [other]}]
  num_retries: 0
`, "eu", "us")
	const msgs = `"messages":[{"role":"user","content":"x"}]`
	for range 10 {
		if status, h, b := e.post("/v1/chat/completions", `{"model":"chat","allowed_model_region":"EU",`+msgs+`}`); status != 200 || h.Get("X-Breakerd-Deployment") != "chat/openai/gpt-4o" {
			t.Fatalf("status %d, deployment %q: %v", status, h.Get("X-Breakerd-Deployment"), b)
		}
	}
	if n := e.mocks["us"].Stats().Requests; n != 0 {
		t.Fatalf("a deployment in the us got %d requests allowed in the eu alone", n)
	}
	if sent := e.mocks["eu"].LastBody(); strings.Contains(sent, "allowed_model_region") {
		t.Fatalf("upstream got %s", sent)
	}
	e.mocks["eu"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	if status, _, _ := e.post("/v1/chat/completions", `{"model":"chat","allowed_model_region":"eu",`+msgs+`}`); status != 503 || e.mocks["us"].Stats().Requests != 0 {
		t.Fatalf("status %d, us calls %d: with the eu's deployment down, want its 503 and no call elsewhere", status, e.mocks["us"].Stats().Requests)
	}
	status, _, b := e.post("/v1/chat/completions", `{"model":"chat","allowed_model_region":"apac",`+msgs+`}`)
	if msg, _ := b["error"].(map[string]any)["message"].(string); status != 400 || !strings.Contains(msg, "No deployment of model `chat` or its fallbacks is in region \"apac\"") {
		t.Fatalf("status %d, message %q", status, msg)
	}
	if status, _, _ := e.post("/v1/chat/completions", `{"model":"chat",`+msgs+`}`); status != 200 {
		t.Fatalf("without allowed_model_region: %d, want the fallback's or the us deployment's answer", status)
	}
}
