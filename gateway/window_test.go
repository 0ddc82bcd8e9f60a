package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// With LiteLLM's enable_pre_call_checks, a prompt over a deployment's
// context window (max_input_tokens, configured or known for the model)
// is not sent there: it goes to a deployment of the group whose window
// takes it; with none, to the group's context_window_fallbacks; with
// none of those either, the client gets OpenAI's 400
// context_length_exceeded, and no upstream is called. Short prompts go
// everywhere as before.
func TestContextWindowPreCallCheck(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: mixed
    litellm_params: {model: openai/small-model, api_base: "${MOCK_SMALL}/v1", api_key: sk-small-key, max_input_tokens: 50, order: 1}
  - model_name: mixed
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_BIG}/v1", api_key: sk-big-key, order: 2}
  - model_name: small
    litellm_params: {model: openai/small-model, api_base: "${MOCK_SMALL}/v1", api_key: sk-small-key}
    model_info: {max_input_tokens: 50}
  - model_name: tiny
    litellm_params: {model: openai/small-model, api_base: "${MOCK_SMALL}/v1", api_key: sk-small-key, max_input_tokens: 10}
router_settings:
  routing_strategy: ordered
  enable_pre_call_checks: true
  context_window_fallbacks: [{small: [mixed]}]
`, "small", "big")
	ctx := context.Background()
	ask := func(model, prompt string) (*openai.ChatCompletion, error) {
		return e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)}})
	}
	long := strings.Repeat("word ", 100) // about 125 tokens
	for _, tc := range []struct{ model, prompt, from string }{
		{"mixed", "hi", "small"}, // the first in order takes a short prompt
		{"mixed", long, "big"},   // but not a long one: its window is 50
		{"small", long, "big"},   // the group's only deployment is too small: its fallbacks'
		{"small", "hi", "small"}, // a short prompt stays
	} {
		got, err := ask(tc.model, tc.prompt)
		if err != nil || !strings.Contains(got.Choices[0].Message.Content, "Hello from "+tc.from) {
			t.Fatalf("%s with %d characters: %+v %v, want it served by %s", tc.model, len(tc.prompt), got, err, tc.from)
		}
	}
	small := e.mocks["small"].Stats().Requests
	_, err := ask("tiny", long)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Code != "context_length_exceeded" ||
		!strings.Contains(apiErr.Message, "is over its context window (max_input_tokens 10)") {
		t.Fatalf("tiny: %v, want a 400 context_length_exceeded", err)
	}
	if n := e.mocks["small"].Stats().Requests; n != small || small != 2 {
		t.Fatalf("small served %d, then %d calls: want 2, and none for a prompt over every window", small, n)
	}
}

// least-cost weighs a long prompt at each deployment's long-context
// prices: GPT-5.4, first by its base prices, costs more than Claude
// Sonnet 4.6 (one price across its window) past 272K tokens, so such a
// prompt goes to Claude first; a short one still goes to GPT-5.4.
func TestLeastCostWeighsLongPromptsAtTheirTier(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-5.4, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: m
    litellm_params: {model: anthropic/claude-sonnet-4-6, api_base: "${MOCK_B}", api_key: sk-ant-b-secret}
router_settings:
  routing_strategy: least-cost
`, "a", "b")
	for _, tc := range []struct {
		name, prompt, want string
	}{
		{"a short prompt", "hello", "m/openai/gpt-5.4"},
		{"past 272K tokens", strings.Repeat("word ", 230_000), "m/anthropic/claude-sonnet-4-6"}, // 1.15M characters
	} {
		var hr *http.Response
		if _, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "m",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(tc.prompt)}}, option.WithResponseInto(&hr)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := hr.Header.Get("X-Breakerd-Deployment"); got != tc.want {
			t.Fatalf("%s: served by %s, want %s", tc.name, got, tc.want)
		}
	}
}
