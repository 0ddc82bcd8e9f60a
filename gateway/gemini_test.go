package gateway_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/breakerd/breakerd/mockllm"
)

// groqToGemini falls back from an OpenAI-compatible primary to Gemini's
// OpenAI-compatible API, which refuses the fields it does not know (the
// mock, as Google does).
const groqToGemini = `
model_list:
  - model_name: fast
    litellm_params: {model: openai/llama-3.3-70b, api_base: "${MOCK_GROQ}/v1", api_key: gsk-secret-key}
  - model_name: gemini
    litellm_params: {model: gemini/gemini-2.5-flash, api_base: "${MOCK_GEMINI}/v1beta/openai", api_key: g-secret-key}
  - model_name: gemini-dropping
    litellm_params: {model: gemini/gemini-2.5-flash, api_base: "${MOCK_GEMINI}/v1beta/openai", api_key: g-secret-key, drop_params: true}
router_settings:
  fallbacks: [{fast: [gemini]}]
`

// What OpenAI clients send (LangChain's penalties at 0, prompt caching's
// key, another model's reasoning in the messages sent back) reaches
// Gemini without the fields it refuses; a penalty that
// matters passes it over (or is dropped under drop_params) rather than
// failing the fallback with Gemini's 400.
func TestGeminiGetsNoFieldItRefuses(t *testing.T) {
	e := newEnv(t, groqToGemini, "groq", "gemini")
	var resp *http.Response
	out, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gemini",
		FrequencyPenalty: openai.Float(0), PresencePenalty: openai.Float(0), PromptCacheKey: openai.String("agent-7"),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}}, option.WithResponseInto(&resp))
	if err != nil || out.Choices[0].Message.Content != "Hello from gemini! You said: Hello" {
		t.Fatalf("%v %+v", err, out)
	}

	// A conversation sent back as a Claude deployment answered it, with
	// its thinking (LiteLLM's fields), which Gemini does not know.
	status, _, body := e.post("/v1/chat/completions", `{"model":"gemini","messages":[{"role":"user","content":"Hi"},`+
		`{"role":"assistant","content":"Hello.","reasoning_content":"Greet back.","thinking_blocks":[{"type":"thinking","thinking":"Greet back.","signature":"s"}]},`+
		`{"role":"user","content":"Hello"}]}`)
	if status != 200 {
		t.Fatalf("status %d, body %v", status, body)
	}

	e.mocks["groq"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	status, _, body = e.post("/v1/chat/completions", `{"model":"fast","frequency_penalty":0.5,"messages":[{"role":"user","content":"Hello"}]}`)
	if status != 503 || e.mocks["gemini"].Stats().Chat != 2 {
		t.Fatalf("status %d, body %v; Gemini asked %d times", status, body, e.mocks["gemini"].Stats().Chat)
	}
	status, h, body := e.post("/v1/chat/completions", `{"model":"gemini-dropping","frequency_penalty":0.5,"thinking":{"type":"enabled","budget_tokens":2000},`+
		`"messages":[{"role":"user","content":"Hello"}]}`)
	if status != 200 || h.Get("X-Breakerd-Dropped-Params") != "frequency_penalty, thinking" {
		t.Fatalf("status %d, headers %v, body %v", status, h, body)
	}
}
