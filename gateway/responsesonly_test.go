package gateway_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"
)

// responsesOnly routes to models of OpenAI's Responses API alone (a codex
// model, and GPT-4.1 behind LiteLLM's responses/ marker), whose chat
// completions endpoint refuses them.
const responsesOnly = `
model_list:
  - model_name: codex
    litellm_params: {model: openai/gpt-5.1-codex, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: bridged
    litellm_params: {model: openai/responses/gpt-5-pro, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: dropping
    litellm_params: {model: openai/gpt-5.4-pro, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret, drop_params: true}
`

// A chat client's request to a model of the Responses API alone goes
// through that API, translated both ways, as LiteLLM's bridge sends it:
// whole and streamed answers, a function tool's call, the tool's result
// on the next turn, a JSON schema's response format, and a Messages
// client's request too; no chat parameter reaches that API (it refuses
// them: "Unknown parameter"). Before, each was the upstream's 404 "only
// supported in v1/responses".
func TestChatThroughTheResponsesAPI(t *testing.T) {
	e := newEnv(t, responsesOnly, "openai")
	ctx := context.Background()
	weather := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_weather", Description: openai.String("the weather"),
		Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]string{"type": "string"}}}})
	for _, model := range []string{"codex", "bridged"} {
		t.Run(model, func(t *testing.T) {
			out, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model, MaxCompletionTokens: openai.Int(200),
				ReasoningEffort: shared.ReasoningEffortHigh,
				Messages:        []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage("hello there")}})
			if err != nil {
				t.Fatal(err)
			}
			if c := out.Choices[0]; !strings.Contains(c.Message.Content, "You said: hello there") || c.FinishReason != "stop" ||
				out.Usage.PromptTokens == 0 || out.Usage.CompletionTokens == 0 || out.Object != "chat.completion" {
				t.Fatalf("answer %+v", out)
			}

			acc, _, err := drain(e.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: model,
				Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream please")},
				StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}}))
			if err != nil || !strings.Contains(acc.Choices[0].Message.Content, "You said: stream please") || acc.Choices[0].FinishReason != "stop" ||
				acc.Usage.TotalTokens == 0 {
				t.Fatalf("stream: %v, %+v", err, acc.ChatCompletion)
			}

			tools := openai.ChatCompletionNewParams{Model: model, Tools: []openai.ChatCompletionToolUnionParam{weather},
				ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")},
				Messages:   []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather in Paris?")}}
			called, err := e.client.Chat.Completions.New(ctx, tools)
			if err != nil {
				t.Fatal(err)
			}
			calls := called.Choices[0].Message.ToolCalls
			if len(calls) != 1 || calls[0].Function.Name != "get_weather" || calls[0].Function.Arguments != `{"query":"mock"}` ||
				called.Choices[0].FinishReason != "tool_calls" {
				t.Fatalf("tool call %+v", called.Choices[0])
			}
			acc, _, err = drain(e.client.Chat.Completions.NewStreaming(ctx, tools))
			if err != nil || len(acc.Choices[0].Message.ToolCalls) != 1 || acc.Choices[0].Message.ToolCalls[0].ID == "" ||
				acc.Choices[0].Message.ToolCalls[0].Function.Arguments != `{"query":"mock"}` || acc.Choices[0].FinishReason != "tool_calls" {
				t.Fatalf("streamed tool call: %v, %+v", err, acc.Choices[0])
			}

			next, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model, Tools: tools.Tools,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather in Paris?"), called.Choices[0].Message.ToParam(),
					openai.ToolMessage("sunny, 21C", calls[0].ID)}})
			if err != nil || next.Choices[0].Message.Content == "" {
				t.Fatalf("the tool's result: %v, %+v", err, next)
			}

			schema := openai.ResponseFormatJSONSchemaJSONSchemaParam{Name: "reply", Strict: openai.Bool(true),
				Schema: map[string]any{"type": "object", "properties": map[string]any{"reply": map[string]string{"type": "string"}},
					"required": []string{"reply"}, "additionalProperties": false}}
			if _, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model,
				Messages:       []openai.ChatCompletionMessageParamUnion{openai.UserMessage("json please")},
				ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &openai.ResponseFormatJSONSchemaParam{JSONSchema: schema}}}); err != nil {
				t.Fatalf("json_schema: %v", err)
			}

			ac := e.anthropicClient()
			msg, err := ac.Messages.New(ctx, anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: 256,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("from Claude Code"))}})
			if err != nil || !strings.Contains(msg.Content[0].Text, "You said: from Claude Code") {
				t.Fatalf("a Messages client: %v, %+v", err, msg)
			}
		})
	}
	if s := e.mocks["openai"].Stats(); s.Failed != 0 || s.Chat != 0 {
		t.Fatalf("the upstream refused %d calls, had %d chat calls", s.Failed, s.Chat)
	}
	// LiteLLM's /model/info says so, as its model map does.
	_, _, body := e.do("GET", "/model/info", "")
	for _, d := range body["data"].([]any) {
		if mode := d.(map[string]any)["model_info"].(map[string]any)["mode"]; mode != "responses" {
			t.Errorf("/model/info mode %v, want responses", mode)
		}
	}
}

// A chat parameter the Responses API lacks (stop, n, the penalties, ...)
// is one such a deployment cannot take: dropped under drop_params,
// else the request passed over, with a 400 naming it when nothing else
// can serve it; at its default it is left out.
func TestChatOnlyParamsAtResponsesOnlyModels(t *testing.T) {
	e := newEnv(t, responsesOnly, "openai")
	ctx := context.Background()
	stop := openai.ChatCompletionNewParamsStopUnion{OfString: openai.String("END")}
	_, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "codex", Stop: stop,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, `"stop"`) || !strings.Contains(apiErr.Message, "Responses API only") {
		t.Fatalf("stop at codex: %v", err)
	}
	if _, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "dropping", Stop: stop, Seed: openai.Int(7),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}); err != nil {
		t.Fatalf("under drop_params: %v", err)
	}
	if _, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "codex", N: openai.Int(1), FrequencyPenalty: openai.Float(0),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}); err != nil {
		t.Fatalf("at their defaults: %v", err)
	}
	if s := e.mocks["openai"].Stats(); s.Failed != 0 || s.Chat != 0 {
		t.Fatalf("the upstream refused %d calls, had %d chat calls", s.Failed, s.Chat)
	}
}

// GPT-5.4's chat completions refuse function tools while it reasons; a
// deployment behind LiteLLM's responses/ marker sends such a request
// through the Responses API, which takes both: the tools and the effort
// reach the model.
func TestToolsWithReasoningThroughTheResponsesAPI(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: g
    litellm_params: {model: openai/responses/gpt-5.4, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
`, "openai")
	status, _, body := e.post("/v1/chat/completions", `{"model":"g","reasoning_effort":"high","messages":[{"role":"user","content":"weather?"}],`+
		`"tools":[{"type":"function","function":{"name":"w","parameters":{"type":"object"}}}],"tool_choice":"required"}`)
	sent := e.mocks["openai"].LastBody()
	if status != 200 || !strings.Contains(sent, `"reasoning":{"effort":"high"}`) || !strings.Contains(sent, `"name":"w"`) {
		t.Fatalf("status %d, body %v; sent %s", status, body, sent)
	}
}

// A health check's one-token call reaches a model of the Responses API
// alone as its least limit (16; "Expected a value >= 16" otherwise), so
// the deployment checks healthy: its breaker counts a success.
func TestHealthCheckOfAResponsesOnlyModel(t *testing.T) {
	e := newEnv(t, responsesOnly+"general_settings: {background_health_checks: true, enable_health_check_routing: true}\n", "openai") // checks judged
	e.gw.Probe(context.Background())
	if n := e.mocks["openai"].Stats().Responses; n != 3 {
		t.Fatalf("%d checks through the Responses API, want 3", n)
	}
	if sent := e.mocks["openai"].LastBody(); !strings.Contains(sent, `"max_output_tokens":16`) {
		t.Fatalf("the check sent %s", sent)
	}
	if c := e.breaker("codex/openai/gpt-5.1-codex:chat").Counts(); c.Failures != 0 || c.Successes != 1 {
		t.Fatalf("breaker counts %+v", c)
	}
}

// An Azure deployment with LiteLLM's default api-version (older than
// Azure's Responses API, which refuses it) calls that API at one it
// takes: a Responses client's request and a chat client's to a codex
// deployment are both served.
func TestAzureResponsesAtTheirAPIVersion(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: codex
    litellm_params: {model: azure/my-codex, base_model: gpt-5.1-codex, api_base: "${MOCK_OPENAI}", api_key: az-secret-key-123}
  - model_name: gpt
    litellm_params: {model: azure/my-gpt, api_base: "${MOCK_OPENAI}", api_key: az-secret-key-123}
`, "openai")
	if out, _, err := e.chat("codex"); err != nil || !strings.Contains(out.Choices[0].Message.Content, "You said: Hello") {
		t.Fatalf("chat to codex: %v", err)
	}
	status, _, body := e.post("/v1/responses", `{"model":"gpt","input":"hi"}`)
	if status != 200 {
		t.Fatalf("a Responses client: %d %v", status, body)
	}
}

// A verbosity a codex model does not take (it takes medium only) reaches
// it as medium, from a chat client and a Responses client alike.
func TestCodexVerbosityFitted(t *testing.T) {
	e := newEnv(t, responsesOnly, "openai")
	for _, body := range []string{`{"model":"codex","verbosity":"low","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"codex","text":{"verbosity":"high"},"input":"hi"}`} {
		path := "/v1/chat/completions"
		if strings.Contains(body, `"input"`) {
			path = "/v1/responses"
		}
		status, _, answer := e.post(path, body)
		if sent := e.mocks["openai"].LastBody(); status != 200 || !strings.Contains(sent, `"verbosity":"medium"`) {
			t.Errorf("%s: status %d, body %v; sent %s", path, status, answer, sent)
		}
	}
}

// A reasoning effort a codex model does not take (GPT-5.2's xhigh at
// GPT-5.1 Codex, GPT-5's minimal) reaches it as the nearest it does,
// through the Responses API, not OpenAI's "Unsupported value" 400.
func TestCodexEffortsFitted(t *testing.T) {
	e := newEnv(t, responsesOnly, "openai")
	for effort, want := range map[string]string{"xhigh": "high", "minimal": "low"} {
		status, _, body := e.post("/v1/chat/completions", `{"model":"codex","reasoning_effort":"`+effort+`","messages":[{"role":"user","content":"hi"}]}`)
		if sent := e.mocks["openai"].LastBody(); status != 200 || !strings.Contains(sent, `"reasoning":{"effort":"`+want+`"}`) {
			t.Errorf("%s: status %d, body %v; sent %s", effort, status, body, sent)
		}
	}
}
