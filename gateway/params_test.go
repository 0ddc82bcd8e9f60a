package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/breakerd/breakerd/mockllm"
)

func jsonSchemaParams(stream bool) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("a city")},
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &openai.ResponseFormatJSONSchemaParam{
			JSONSchema: openai.ResponseFormatJSONSchemaJSONSchemaParam{Name: "city", Schema: map[string]any{
				"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"},
					"population": map[string]any{"type": "integer"}}, "required": []string{"name", "population"}}}}}}
	if stream {
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	}
	return p
}

// JSON mode survives an outage of the OpenAI primary: the Anthropic
// fallback answers through a forced tool, and the client gets valid JSON
// in the shape it asked for, streaming or not.
func TestJSONModeThroughAnthropicFallback(t *testing.T) {
	e := newEnv(t, openAIToAnthropic, "openai", "anthropic")
	e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	check := func(content string) {
		t.Helper()
		var city struct {
			Name       string `json:"name"`
			Population int    `json:"population"`
		}
		dec := json.NewDecoder(strings.NewReader(content))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&city); err != nil || city.Name == "" || city.Population == 0 {
			t.Fatalf("content %q is not the JSON asked for: %v", content, err)
		}
	}
	var hr *http.Response
	resp, err := e.client.Chat.Completions.New(context.Background(), jsonSchemaParams(false), option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if hr.Header.Get("X-Breakerd-Provider") != "anthropic" || resp.Choices[0].FinishReason != "stop" || len(resp.Choices[0].Message.ToolCalls) != 0 {
		t.Fatalf("headers %v, choice %+v", hr.Header, resp.Choices[0])
	}
	check(resp.Choices[0].Message.Content)
	acc, _, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), jsonSchemaParams(true)))
	if err != nil {
		t.Fatal(err)
	}
	if acc.Choices[0].FinishReason != "stop" || len(acc.Choices[0].Message.ToolCalls) != 0 {
		t.Fatalf("stream %+v", acc.Choices[0])
	}
	check(acc.Choices[0].Message.Content)
}

// A parameter the fallback cannot take (seed, logit_bias, n > 1): without
// drop_params the fallback is passed over, not turned into a 400; with it
// the parameter is dropped and the response says so. A request no
// deployment on its route can honour still gets the 400 naming it.
func TestParametersAFallbackCannotTake(t *testing.T) {
	const body = `{"model":"gpt-4o-mini","seed":7,"messages":[{"role":"user","content":"x"}]}`
	t.Run("without drop_params the fallback is passed over", func(t *testing.T) {
		e := newEnv(t, openAIToAnthropic, "openai", "anthropic")
		if status, _, b := e.post("/v1/chat/completions", body); status != 200 {
			t.Fatalf("with the primary up: %d %v", status, b)
		}
		e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
		status, _, b := e.post("/v1/chat/completions", body)
		if status != 503 || !strings.Contains(b["error"].(map[string]any)["message"].(string), `cannot take parameter "seed"`) {
			t.Fatalf("status %d %v", status, b)
		}
		if n := e.mocks["anthropic"].Stats().Requests; n != 0 {
			t.Fatalf("the fallback got %d calls", n)
		}
	})
	t.Run("drop_params drops it and says so", func(t *testing.T) {
		e := newEnv(t, openAIToAnthropic+"litellm_settings:\n  drop_params: true\n", "openai", "anthropic")
		e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
		status, h, b := e.post("/v1/chat/completions", body)
		if status != 200 || h.Get("X-Breakerd-Dropped-Params") != "seed" || h.Get("X-Breakerd-Provider") != "anthropic" {
			t.Fatalf("status %d headers %v %v", status, h, b)
		}
	})
	t.Run("additional_drop_params drops it always, without passing the fallback over", func(t *testing.T) {
		cfg := strings.Replace(openAIToAnthropic, "      api_key: sk-ant-secret-key", "      api_key: sk-ant-secret-key\n      additional_drop_params: [seed, reasoningSummary]", 1)
		e := newEnv(t, cfg, "openai", "anthropic")
		e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
		status, h, b := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","seed":7,"reasoningSummary":"auto","temperature":0.5,"messages":[{"role":"user","content":"x"}]}`)
		if status != 200 || h.Get("X-Breakerd-Provider") != "anthropic" || h.Get("X-Breakerd-Dropped-Params") != "" {
			t.Fatalf("status %d headers %v %v", status, h, b)
		}
		sent := e.mocks["anthropic"].LastBody()
		if strings.Contains(sent, "seed") || strings.Contains(sent, "reasoningSummary") || !strings.Contains(sent, `"temperature":0.5`) {
			t.Fatalf("the fallback got %s: want seed and reasoningSummary left out, temperature kept", sent)
		}
	})
	t.Run("no deployment can honour it", func(t *testing.T) {
		e := newEnv(t, openAIToAnthropic, "openai", "anthropic")
		status, _, b := e.post("/v1/chat/completions", `{"model":"claude-3-5-sonnet","seed":7,"messages":[{"role":"user","content":"x"}]}`)
		if status != 400 || !strings.Contains(b["error"].(map[string]any)["message"].(string), `"seed"`) {
			t.Fatalf("status %d %v", status, b)
		}
	})
}

// LiteLLM's litellm_params request defaults, and extra_body's parameters,
// apply where the request does not set them; the request's own value wins.
func TestRequestDefaultsFromLiteLLMParams(t *testing.T) {
	cfg := strings.Replace(twoGroups, "      api_key: sk-primary-secret-key",
		"      api_key: sk-primary-secret-key\n      temperature: 0.2\n      max_tokens: 77\n      extra_body: {think: true, options: {num_ctx: 8192}}", 1)
	e := newEnv(t, cfg, "primary", "backup")
	for _, tc := range []struct {
		body        string
		temperature float64
	}{
		{`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`, 0.2},
		{`{"model":"gpt-4o-mini","temperature":0.9,"messages":[{"role":"user","content":"x"}]}`, 0.9},
	} {
		if status, _, b := e.post("/v1/chat/completions", tc.body); status != 200 {
			t.Fatalf("status %d %v", status, b)
		}
		var got struct {
			Temperature float64 `json:"temperature"`
			MaxTokens   int     `json:"max_tokens"`
			Think       bool    `json:"think"`
			Options     struct {
				NumCtx int `json:"num_ctx"`
			} `json:"options"`
		}
		if err := json.Unmarshal([]byte(e.mocks["primary"].LastBody()), &got); err != nil || got.Temperature != tc.temperature || got.MaxTokens != 77 ||
			!got.Think || got.Options.NumCtx != 8192 {
			t.Fatalf("upstream got %s: want temperature %v, max_tokens 77 and extra_body's think and options", e.mocks["primary"].LastBody(), tc.temperature)
		}
	}
}
