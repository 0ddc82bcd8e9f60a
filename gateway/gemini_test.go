package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/breakerd/breakerd/mockllm"
	"github.com/breakerd/breakerd/provider"
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

// claudeToGemini falls back from Claude to Gemini, whose function
// declarations and response schemas take only its subset of JSON Schema
// (the mock, as Google, refuses the rest with a 400).
const claudeToGemini = `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
  - model_name: gemini
    litellm_params: {model: gemini/gemini-2.5-flash, api_base: "${MOCK_GEMINI}/v1beta/openai", api_key: g-secret-key}
router_settings:
  fallbacks: [{claude: [gemini]}]
`

// The schemas clients write (an MCP server's tool with $schema and
// additionalProperties: false, Pydantic's $defs and $ref, Zod's const and
// type lists, OpenAI's strict structured outputs) reach Gemini in its
// subset of JSON Schema, so that it serves them when Claude is down
// rather than refusing each with a 400.
func TestGeminiTakesTheSchemasClientsWrite(t *testing.T) {
	e := newEnv(t, claudeToGemini, "anthropic", "gemini")
	e.mocks["anthropic"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	schema := map[string]any{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": false,
		"$defs": map[string]any{"Mode": map[string]any{"type": "string", "enum": []string{"read", "write"}}},
		"properties": map[string]any{"path": map[string]any{"type": "string"}, "mode": map[string]any{"$ref": "#/$defs/Mode"},
			"kind": map[string]any{"const": "file"}, "limit": map[string]any{"type": []string{"integer", "null"}, "exclusiveMinimum": 0}},
		"required": []string{"path", "mode"}}
	var resp *http.Response
	client := e.anthropicClient()
	msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "claude", MaxTokens: 256,
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "read_file",
			InputSchema: anthropic.ToolInputSchemaParam{Properties: schema["properties"], Required: []string{"path", "mode"},
				ExtraFields: map[string]any{"$schema": schema["$schema"], "additionalProperties": false, "$defs": schema["$defs"]}}}}},
		ToolChoice: anthropic.ToolChoiceUnionParam{OfAny: &anthropic.ToolChoiceAnyParam{}},
		Messages:   []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Read go.mod"))}}, aoption.WithResponseInto(&resp))
	if err != nil || resp.Header.Get("X-Breakerd-Provider") != "gemini" || len(msg.Content) == 0 || msg.Content[0].Type != "tool_use" {
		t.Fatalf("%v: headers %v, message %+v", err, resp.Header, msg)
	}
	if input := string(msg.Content[0].Input); !strings.Contains(input, `"mode":"read"`) {
		t.Fatalf("tool input %s, want a mode of the inlined enum", input)
	}

	out, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gemini",
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "city", Strict: openai.Bool(true),
				Schema: map[string]any{"type": "object", "additionalProperties": false, "required": []string{"city"},
					"properties": map[string]any{"city": map[string]any{"type": "string"}}}}}},
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Where?")}})
	if err != nil || out.Choices[0].Message.Content != `{"city":"mock"}` {
		t.Fatalf("%v %+v", err, out)
	}
}

// Gemini 3 refuses an assistant's tool call without its thought signature
// ("Function call is missing a thought_signature"), which a conversation
// whose earlier turns another model served has none of, nor one a client
// rebuilt (Claude Code's, through the Messages translation). Each reaches
// Gemini 3 with Google's documented stand-in; a signature Gemini made is
// sent back as it came.
func TestGemini3GetsThoughtSignatures(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: gemini
    litellm_params: {model: gemini/gemini-3-pro-preview, api_base: "${MOCK_GEMINI}/v1beta/openai", api_key: g-secret-key}
router_settings:
  fallbacks: [{gpt: [gemini]}]
`, "openai", "gemini")
	ctx := context.Background()
	weather := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_weather",
		Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]string{"type": "string"}}}})
	ask := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather in Paris?")}
	required := openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}
	// The first turn at GPT-4o, the second at Gemini 3 (GPT-4o is down).
	first, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt", Messages: ask,
		Tools: []openai.ChatCompletionToolUnionParam{weather}, ToolChoice: required})
	if err != nil {
		t.Fatal(err)
	}
	e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	next := append(ask, first.Choices[0].Message.ToParam(), openai.ToolMessage("sunny", first.Choices[0].Message.ToolCalls[0].ID))
	var resp *http.Response
	out, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt", Messages: next,
		Tools: []openai.ChatCompletionToolUnionParam{weather}}, option.WithResponseInto(&resp))
	if err != nil || resp.Header.Get("X-Breakerd-Provider") != "gemini" || out.Choices[0].Message.Content == "" {
		t.Fatalf("the second turn at Gemini 3: %v", err)
	}
	if sent := e.mocks["gemini"].LastBody(); !strings.Contains(sent, `"thought_signature":"skip_thought_signature_validator"`) {
		t.Fatalf("Gemini got %s", sent)
	}
	// A Messages client's tool loop at Gemini 3.
	ac := e.anthropicClient()
	msg, err := ac.Messages.New(ctx, anthropic.MessageNewParams{Model: "gemini", MaxTokens: 256,
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "get_weather", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{}}}}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("weather?")),
			anthropic.NewAssistantMessage(anthropic.NewToolUseBlock("toolu_1", map[string]any{}, "get_weather")),
			anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_1", "sunny", false))}}, aoption.WithMaxRetries(0))
	if err != nil || len(msg.Content) == 0 {
		t.Fatalf("a Messages client's tool loop at Gemini 3: %v", err)
	}
	// Gemini 3's own signature, kept by the client (the official SDK's
	// ToParam does not keep it: the stand-in goes then), goes back as it
	// came.
	status, _, body := e.post("/v1/chat/completions", `{"model":"gemini","messages":[{"role":"user","content":"weather?"}],"tool_choice":"required",`+
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}`)
	call, _ := json.Marshal(body["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["tool_calls"])
	if status != 200 || !strings.Contains(string(call), `"thought_signature":"mocksig_`) {
		t.Fatalf("Gemini 3's call: %d %s", status, call)
	}
	status, _, body = e.post("/v1/chat/completions", `{"model":"gemini","messages":[{"role":"user","content":"weather?"},`+
		`{"role":"assistant","tool_calls":`+string(call)+`},{"role":"tool","tool_call_id":"x","content":"sunny"}]}`)
	if sent := e.mocks["gemini"].LastBody(); status != 200 || !strings.Contains(sent, `"thought_signature":"mocksig_`) || strings.Contains(sent, "skip_thought") {
		t.Fatalf("%d %v: Gemini got %s", status, body, sent)
	}
}

// Gemini 3's thought signature reaches a chat client in its tool call's
// id too (LiteLLM's "__thought__"), whole and streamed: a client that
// drops extra_content (LangChain's, the Vercel AI SDK's) sends it back
// in the id, and Gemini 3 gets it back where it wants it, the id its own
// again; another deployment gets the id alone (OpenAI refuses an id over
// 40 characters).
func TestGemini3SignaturesInToolCallIDs(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gemini
    litellm_params: {model: gemini/gemini-3-pro-preview, api_base: "${MOCK_GEMINI}/v1beta/openai", api_key: g-secret-key}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
router_settings:
  fallbacks: [{gemini: [gpt]}]
`, "gemini", "openai")
	ctx := context.Background()
	weather := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_weather",
		Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]string{"type": "string"}}}})
	ask := openai.ChatCompletionNewParams{Model: "gemini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather in Paris?")},
		Tools: []openai.ChatCompletionToolUnionParam{weather}, ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}}
	whole, err := e.client.Chat.Completions.New(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	call := whole.Choices[0].Message.ToolCalls[0]
	base, sig, ok := strings.Cut(call.ID, "__thought__")
	if !ok || !strings.HasPrefix(sig, "mocksig_") || !strings.Contains(call.RawJSON(), `"thought_signature":"`+sig+`"`) {
		t.Fatalf("Gemini 3's call %s: want its signature in its id too", call.RawJSON())
	}
	acc, _, err := drain(e.client.Chat.Completions.NewStreaming(ctx, ask))
	if err != nil {
		t.Fatal(err)
	}
	if id := acc.Choices[0].Message.ToolCalls[0].ID; !strings.Contains(id, "__thought__mocksig_") {
		t.Fatalf("streamed, the call's id %q: want its signature in it", id)
	}
	// The next turn from a client that kept only the id.
	next := `{"model":"gemini","messages":[{"role":"user","content":"weather in Paris?"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"` + call.ID + `","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"` + call.ID + `","content":"sunny"}]}`
	status, _, body := e.post("/v1/chat/completions", next)
	sent := e.mocks["gemini"].LastBody()
	if status != 200 || !strings.Contains(sent, `"thought_signature":"`+sig+`"`) || strings.Contains(sent, "__thought__") ||
		strings.Count(sent, `"`+base+`"`) != 2 {
		t.Fatalf("%d %v: Gemini 3 got %s; want its signature back, its id its own", status, body, sent)
	}
	// Gemini down: GPT-4o gets the ids alone.
	e.mocks["gemini"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	status, h, body := e.post("/v1/chat/completions", next)
	sent = e.mocks["openai"].LastBody()
	if status != 200 || h.Get("X-Breakerd-Provider") != "openai" || strings.Contains(sent, "__thought__") || strings.Contains(sent, "thought_signature") ||
		strings.Count(sent, `"`+base+`"`) != 2 {
		t.Fatalf("%d %v: GPT-4o got %s; want the ids alone", status, body, sent)
	}
}

// DeepSeek's thinking models refuse an assistant message without its
// reasoning_content ("Missing `reasoning_content` field in the assistant
// message at message index 2"), which a tool loop begun at another model
// has none of, nor Claude Code's through the Messages translation: each
// gets an empty one; one the client kept goes as it came.
func TestDeepSeekGetsReasoningContent(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: ds
    litellm_params: {model: deepseek/deepseek-reasoner, api_base: "${MOCK_DEEPSEEK}/v1", api_key: sk-deepseek-secret}
router_settings:
  fallbacks: [{gpt: [ds]}]
`, "openai", "deepseek")
	loop := `{"model":"%s","messages":[{"role":"user","content":"weather?"},` +
		`{"role":"assistant","content":null%s,"tool_calls":[{"id":"c1","type":"function","function":{"name":"w","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"c1","content":"sunny"}],"tools":[{"type":"function","function":{"name":"w","parameters":{"type":"object"}}}]}`
	e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	status, h, body := e.post("/v1/chat/completions", fmt.Sprintf(loop, "gpt", ""))
	if sent := e.mocks["deepseek"].LastBody(); status != 200 || h.Get("X-Breakerd-Provider") != "deepseek" || !strings.Contains(sent, `"reasoning_content":""`) {
		t.Fatalf("a GPT tool loop at DeepSeek: %d %v; sent %s", status, body, sent)
	}
	status, _, body = e.post("/v1/chat/completions", fmt.Sprintf(loop, "ds", `,"reasoning_content":"check the weather"`))
	if sent := e.mocks["deepseek"].LastBody(); status != 200 || !strings.Contains(sent, `"reasoning_content":"check the weather"`) {
		t.Fatalf("the client's own: %d %v; sent %s", status, body, sent)
	}
	ac := e.anthropicClient()
	msg, err := ac.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "ds", MaxTokens: 256,
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "w", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{}}}}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("weather?")),
			anthropic.NewAssistantMessage(anthropic.NewToolUseBlock("toolu_1", map[string]any{}, "w")),
			anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_1", "sunny", false))}})
	if err != nil || len(msg.Content) == 0 {
		t.Fatalf("Claude Code's tool loop at DeepSeek: %v", err)
	}
}

// LiteLLM's merge_reasoning_content_in_choices: a chat client gets a
// thinking model's reasoning in content, <think>...</think> before the
// answer, whole and streamed (through the official SDK's accumulator);
// without it, in reasoning_content, as DeepSeek sends it.
func TestMergeReasoningContentInChoices(t *testing.T) {
	for _, merge := range []bool{true, false} {
		e := newEnv(t, `
model_list:
  - model_name: r1
    litellm_params: {model: deepseek/deepseek-reasoner, api_base: "${MOCK_DEEPSEEK}/v1", api_key: sk-deepseek-secret, merge_reasoning_content_in_choices: `+strconv.FormatBool(merge)+`}
`, "deepseek")
		params := openai.ChatCompletionNewParams{Model: "r1", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello there")}}
		whole, err := e.client.Chat.Completions.New(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		acc, _, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), params))
		if err != nil {
			t.Fatal(err)
		}
		const reasoning = "The user said hello there; I greet them."
		for how, msg := range map[string]openai.ChatCompletionMessage{"whole": whole.Choices[0].Message, "streamed": acc.Choices[0].Message} {
			_, hasField := msg.JSON.ExtraFields["reasoning_content"]
			switch {
			case merge && (msg.Content != "<think>"+reasoning+"</think>Hello from deepseek! You said: hello there" || hasField && how == "whole"):
				t.Fatalf("merged, %s: content %q, raw %s", how, msg.Content, msg.RawJSON())
			case !merge && (msg.Content != "Hello from deepseek! You said: hello there" || how == "whole" && !strings.Contains(msg.RawJSON(), reasoning)):
				t.Fatalf("apart, %s: content %q, raw %s", how, msg.Content, msg.RawJSON())
			}
		}
	}
}

// Claude Code at a thinking model of another kind (DeepSeek's, by chat):
// with thinking on, the model's reasoning comes back as a thinking block
// before the answer, whole and streamed (the SDK's accumulator), signed as
// breakerd's own; sent back in the session, it goes to DeepSeek as the
// assistant's reasoning_content (which its thinking mode wants in a tool
// loop), not to a model that does not read it back, and not to Claude,
// which could not check its signature: there a tool call it led goes
// without thinking for that step. Without thinking, none is shown.
func TestMessagesClientSeesAnotherModelsReasoning(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
  - model_name: ds
    litellm_params: {model: deepseek/deepseek-reasoner, api_base: "${MOCK_DEEPSEEK}/v1", api_key: sk-deepseek-secret}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
router_settings:
  fallbacks: [{sonnet: [ds]}]
`, "anthropic", "deepseek", "openai")
	ctx := context.Background()
	ac := e.anthropicClient()
	const reasoning = "The user said weather?; I greet them."
	e.mocks["anthropic"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	ask := anthropic.MessageNewParams{Model: "sonnet", MaxTokens: 4096, Thinking: anthropic.ThinkingConfigParamOfEnabled(2048),
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("weather?"))}}
	answers := e.messagesBothWays(ctx, ask)
	for how, msg := range answers {
		if len(msg.Content) != 2 || msg.Content[0].Type != "thinking" || msg.Content[0].Thinking != reasoning ||
			msg.Content[0].Signature != provider.ReasoningSignature || msg.Content[1].Type != "text" {
			t.Fatalf("%s: %s", how, msg.RawJSON())
		}
	}
	plain := ask
	plain.Thinking = anthropic.ThinkingConfigParamUnion{}
	if msg, err := ac.Messages.New(ctx, plain); err != nil || len(msg.Content) != 1 || msg.Content[0].Type != "text" {
		t.Fatalf("without thinking: %v %+v", err, msg.Content)
	}

	// The session goes on: at DeepSeek, its reasoning goes back to it.
	next := ask
	whole := answers["whole"]
	next.Messages = []anthropic.MessageParam{ask.Messages[0], whole.ToParam(), anthropic.NewUserMessage(anthropic.NewTextBlock("and tomorrow?"))}
	if _, err := ac.Messages.New(ctx, next); err != nil || !strings.Contains(e.mocks["deepseek"].LastBody(), `"reasoning_content":"`+reasoning+`"`) {
		t.Fatalf("%v: DeepSeek got %s", err, e.mocks["deepseek"].LastBody())
	}
	toGPT := next
	toGPT.Model = "gpt"
	if _, err := ac.Messages.New(ctx, toGPT); err != nil || strings.Contains(e.mocks["openai"].LastBody(), "reasoning_content") {
		t.Fatalf("%v: GPT got %s", err, e.mocks["openai"].LastBody())
	}

	// Claude is back: the thinking it cannot check is left out.
	e.mocks["anthropic"].SetFaults(mockllm.Faults{})
	msg, err := ac.Messages.New(ctx, next)
	if err != nil || msg.Content[0].Type != "thinking" || msg.Content[0].Signature == provider.ReasoningSignature {
		t.Fatalf("a later turn at Claude: %v %+v", err, msg)
	}
	loop := next
	loop.Tools = []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "w", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{}}}}}
	loop.Messages = []anthropic.MessageParam{ask.Messages[0],
		anthropic.NewAssistantMessage(anthropic.NewThinkingBlock(provider.ReasoningSignature, reasoning), anthropic.NewToolUseBlock("call_1", map[string]any{}, "w")),
		anthropic.NewUserMessage(anthropic.NewToolResultBlock("call_1", "sunny", false))}
	if msg, err = ac.Messages.New(ctx, loop); err != nil || msg.Content[0].Type == "thinking" {
		t.Fatalf("a tool loop DeepSeek's reasoning led, at Claude: %v %+v", err, msg)
	}
}

// A Responses client (Codex) at a thinking model of another kind
// (DeepSeek's, by chat) that asks for a reasoning summary gets the model's
// reasoning as a reasoning item's summary before the answer, whole and
// streamed (the SDK's accumulator, and every index and id checked); sent
// back, it goes to DeepSeek as the assistant's reasoning_content, and not
// to OpenAI, which would look its id up and answer 404. Without a summary
// asked for, none is shown.
func TestResponsesClientSeesAnotherModelsReasoning(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: codex
    litellm_params: {model: openai/gpt-5.1-codex, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: ds
    litellm_params: {model: deepseek/deepseek-reasoner, api_base: "${MOCK_DEEPSEEK}/v1", api_key: sk-deepseek-secret}
router_settings:
  fallbacks: [{codex: [ds]}]
`, "openai", "deepseek")
	ctx := context.Background()
	const reasoning = "The user said weather?; I greet them."
	e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	ask := responses.ResponseNewParams{Model: "codex", Store: openai.Bool(false),
		Reasoning: shared.ReasoningParam{Effort: shared.ReasoningEffortMedium, Summary: shared.ReasoningSummaryAuto},
		Input:     responses.ResponseNewParamsInputUnion{OfString: openai.String("weather?")}}
	answers := e.responsesBothWays(ctx, ask)
	for how, r := range answers {
		if len(r.Output) != 2 || r.Output[0].Type != "reasoning" || len(r.Output[0].Summary) != 1 || r.Output[0].Summary[0].Text != reasoning ||
			!strings.HasPrefix(r.Output[0].ID, provider.ReasoningItemPrefix) || r.Output[1].Type != "message" || r.OutputText() == "" {
			t.Fatalf("%s: %s", how, r.RawJSON())
		}
	}
	plain := ask
	plain.Reasoning = shared.ReasoningParam{Effort: shared.ReasoningEffortMedium}
	if r, err := e.client.Responses.New(ctx, plain); err != nil || len(r.Output) != 1 || r.Output[0].Type != "message" {
		t.Fatalf("without a summary: %v %s", err, r.RawJSON())
	}

	// The session goes on, as Codex sends it: every item again.
	whole := answers["whole"]
	rp := whole.Output[0].AsReasoning().ToParam()
	next := ask
	next.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfMessage("weather?", responses.EasyInputMessageRoleUser),
		{OfReasoning: &rp},
		responses.ResponseInputItemParamOfOutputMessage(
			[]responses.ResponseOutputMessageContentUnionParam{{OfOutputText: &responses.ResponseOutputTextParam{Text: whole.OutputText()}}},
			whole.Output[1].ID, responses.ResponseOutputMessageStatusCompleted),
		responses.ResponseInputItemParamOfMessage("and tomorrow?", responses.EasyInputMessageRoleUser)}}
	if _, err := e.client.Responses.New(ctx, next); err != nil || !strings.Contains(e.mocks["deepseek"].LastBody(), `"reasoning_content":"`+reasoning+`"`) {
		t.Fatalf("%v: DeepSeek got %s", err, e.mocks["deepseek"].LastBody())
	}
	e.mocks["openai"].SetFaults(mockllm.Faults{})
	var hr *http.Response
	if _, err := e.client.Responses.New(ctx, next, option.WithResponseInto(&hr)); err != nil || hr.Header.Get("X-Breakerd-Provider") != "openai" ||
		strings.Contains(e.mocks["openai"].LastBody(), provider.ReasoningItemPrefix) {
		t.Fatalf("%v: OpenAI got %s", err, e.mocks["openai"].LastBody())
	}
}

// Kimi's thinking models (Moonshot's own API, or through OpenRouter)
// refuse an assistant tool call message without its reasoning_content
// ("thinking is enabled but reasoning_content is missing in assistant tool
// call message"): a GPT tool loop that falls back to Kimi gives each an
// empty one, and Claude Code's thinking goes back as it.
func TestKimiGetsReasoningContent(t *testing.T) {
	for _, tc := range []struct{ provider, model string }{
		{"moonshot", "moonshot/kimi-k2.5"},
		{"openrouter", "openrouter/moonshotai/kimi-k2.6"},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			e := newEnv(t, `
model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: kimi
    litellm_params: {model: `+tc.model+`, api_base: "${MOCK_KIMI}/v1", api_key: sk-kimi-secret}
router_settings:
  fallbacks: [{gpt: [kimi]}]
`, "openai", "kimi")
			e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
			status, h, body := e.post("/v1/chat/completions", `{"model":"gpt","messages":[{"role":"user","content":"weather?"},`+
				`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"w","arguments":"{}"}}]},`+
				`{"role":"tool","tool_call_id":"c1","content":"sunny"}],"tools":[{"type":"function","function":{"name":"w","parameters":{"type":"object"}}}]}`)
			if sent := e.mocks["kimi"].LastBody(); status != 200 || h.Get("X-Breakerd-Deployment") == "" || !strings.Contains(sent, `"reasoning_content":""`) {
				t.Fatalf("a GPT tool loop at Kimi: %d %v; sent %s", status, body, sent)
			}
			ac := e.anthropicClient()
			_, err := ac.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "kimi", MaxTokens: 4096, Thinking: anthropic.ThinkingConfigParamOfEnabled(2048),
				Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "w", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{}}}}},
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("weather?")),
					anthropic.NewAssistantMessage(anthropic.NewThinkingBlock(provider.ReasoningSignature, "look it up"), anthropic.NewToolUseBlock("toolu_1", map[string]any{}, "w")),
					anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_1", "sunny", false))}})
			if sent := e.mocks["kimi"].LastBody(); err != nil || !strings.Contains(sent, `"reasoning_content":"look it up"`) {
				t.Fatalf("Claude Code's tool loop at Kimi: %v; sent %s", err, sent)
			}
		})
	}
}

// Codex at Gemini 3 (by chat): asked for its reasoning's encrypted
// content, it gets Gemini's thought signature in a reasoning item before
// the tool call it came with, whole and streamed, and the next turn sends
// it back with the call, as Gemini wants, where it got Google's stand-in
// (and a model that reasons less well) before; without the encrypted
// content asked for, the stand-in goes.
func TestCodexKeepsGeminisThoughtSignatures(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gemini
    litellm_params: {model: gemini/gemini-3-pro-preview, api_base: "${MOCK_GEMINI}/v1beta/openai", api_key: g-secret-key}
`, "gemini")
	ctx := context.Background()
	ask := responses.ResponseNewParams{Model: "gemini", Store: openai.Bool(false),
		Include:    []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent},
		Tools:      []responses.ToolUnionParam{responses.ToolParamOfFunction("w", map[string]any{"type": "object"}, false)},
		ToolChoice: responses.ResponseNewParamsToolChoiceUnion{OfToolChoiceMode: openai.Opt(responses.ToolChoiceOptionsRequired)},
		Input:      responses.ResponseNewParamsInputUnion{OfString: openai.String("weather?")}}
	answers := e.responsesBothWays(ctx, ask)
	for how, r := range answers {
		if len(r.Output) != 2 || r.Output[0].Type != "reasoning" || !strings.HasPrefix(r.Output[0].EncryptedContent, provider.ThinkingContentPrefix) ||
			r.Output[1].Type != "function_call" {
			t.Fatalf("%s: %s", how, r.RawJSON())
		}
	}
	for _, tc := range []struct {
		name    string
		include []responses.ResponseIncludable
		want    string
	}{
		{"kept", ask.Include, `"thought_signature":"mocksig_`},
		{"not asked for", nil, `"thought_signature":"skip_thought_signature_validator"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streamed := answers["streamed"]
			rp, fc := streamed.Output[0].AsReasoning().ToParam(), streamed.Output[1].AsFunctionCall().ToParam()
			output := responses.ResponseInputItemParamOfFunctionCallOutput("sunny")
			output.OfFunctionCallOutput.CallID = openai.String(fc.CallID)
			input := responses.ResponseInputParam{responses.ResponseInputItemParamOfMessage("weather?", responses.EasyInputMessageRoleUser)}
			if tc.include != nil {
				input = append(input, responses.ResponseInputItemUnionParam{OfReasoning: &rp})
			}
			next := ask
			next.Include, next.ToolChoice = tc.include, responses.ResponseNewParamsToolChoiceUnion{}
			next.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: append(input, responses.ResponseInputItemUnionParam{OfFunctionCall: &fc}, output)}
			if _, err := e.client.Responses.New(ctx, next); err != nil || !strings.Contains(e.mocks["gemini"].LastBody(), tc.want) {
				t.Fatalf("%v: Gemini got %s", err, e.mocks["gemini"].LastBody())
			}
		})
	}
}

// Claude Code at Gemini 3 (by chat), thinking on: Gemini's thought
// signature goes in the signature of a thinking block before the tool
// call (signed breakerd's), whole and streamed (the SDK's accumulator),
// and the next turn sends it back with the call, as Gemini wants; the
// block is left out at Claude, which could not check it.
func TestClaudeCodeKeepsGeminisThoughtSignatures(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gemini
    litellm_params: {model: gemini/gemini-3-pro-preview, api_base: "${MOCK_GEMINI}/v1beta/openai", api_key: g-secret-key}
  - model_name: sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
`, "gemini", "anthropic")
	ctx := context.Background()
	ac := e.anthropicClient()
	tools := []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "w", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{}}}}}
	ask := anthropic.MessageNewParams{Model: "gemini", MaxTokens: 4096, Tools: tools, Thinking: anthropic.ThinkingConfigParamOfEnabled(2048),
		ToolChoice: anthropic.ToolChoiceUnionParam{OfAny: &anthropic.ToolChoiceAnyParam{}},
		Messages:   []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("weather?"))}}
	answers := e.messagesBothWays(ctx, ask)
	for how, msg := range answers {
		if len(msg.Content) != 2 || msg.Content[0].Type != "thinking" || !strings.HasPrefix(msg.Content[0].Signature, provider.ReasoningSignature+":") ||
			msg.Content[1].Type != "tool_use" {
			t.Fatalf("%s: %s", how, msg.RawJSON())
		}
	}
	for _, tc := range []struct{ model, want, not string }{
		{"gemini", `"thought_signature":"mocksig_`, "skip_thought_signature_validator"},
		{"sonnet", `"type":"tool_use"`, provider.ReasoningSignature},
	} {
		next := ask
		next.Model, next.ToolChoice = tc.model, anthropic.ToolChoiceUnionParam{}
		streamed := answers["streamed"]
		next.Messages = []anthropic.MessageParam{ask.Messages[0], streamed.ToParam(),
			anthropic.NewUserMessage(anthropic.NewToolResultBlock(streamed.Content[1].ID, "sunny", false))}
		sent := func() string {
			return e.mocks[map[string]string{"gemini": "gemini", "sonnet": "anthropic"}[tc.model]].LastBody()
		}
		if _, err := ac.Messages.New(ctx, next); err != nil || !strings.Contains(sent(), tc.want) || strings.Contains(sent(), tc.not) {
			t.Fatalf("the next turn at %s: %v; sent %s", tc.model, err, sent())
		}
	}
}
