package gateway_test

import (
	"cmp"
	"context"
	"net/http"
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

// todaysClaude routes to Claude Opus 4.7, whose API contract refuses a
// thinking budget and sampling parameters; gpt-4o-mini is its fallback.
const todaysClaude = `
model_list:
  - model_name: opus
    litellm_params:
      model: anthropic/claude-opus-4-7
      api_base: ${MOCK_ANTHROPIC}
      api_key: sk-ant-secret-key
  - model_name: opus-dropping
    litellm_params:
      model: anthropic/claude-opus-4-7
      api_base: ${MOCK_ANTHROPIC}
      api_key: sk-ant-secret-key
      drop_params: true
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${MOCK_OPENAI}/v1
      api_key: sk-openai-secret
router_settings:
  fallbacks: [{opus: [gpt]}]
`

// An OpenAI client's reasoning_effort reaches Claude Opus 4.7 as the
// adaptive thinking it takes (the mock, as Anthropic, refuses a budget),
// and its thinking comes back in reasoning_content, a stream's too.
func TestReasoningEffortThinksOnTodaysClaude(t *testing.T) {
	e := newEnv(t, todaysClaude, "anthropic", "openai")
	params := openai.ChatCompletionNewParams{Model: "opus", ReasoningEffort: shared.ReasoningEffortHigh,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}}
	var resp *http.Response
	out, err := e.client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	msg := out.Choices[0].Message
	if resp.Header.Get("X-Breakerd-Provider") != "anthropic" || !strings.Contains(msg.Content, "You said: Hello") ||
		!strings.Contains(msg.JSON.ExtraFields["reasoning_content"].Raw(), "a short one will do") ||
		!strings.Contains(msg.JSON.ExtraFields["thinking_blocks"].Raw(), `"signature":"mocksig_`) {
		t.Fatalf("headers %v, message %s", resp.Header, msg.RawJSON())
	}
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), params)
	var reasoning strings.Builder
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			if r, ok := c.Choices[0].Delta.JSON.ExtraFields["reasoning_content"]; ok {
				reasoning.WriteString(strings.Trim(r.Raw(), `"`))
			}
		}
	}
	if err := stream.Err(); err != nil || !strings.Contains(reasoning.String(), "a short one will do") {
		t.Fatalf("%v: streamed reasoning %q", err, reasoning.String())
	}
	if n := e.mocks["openai"].Stats().Chat; n != 0 {
		t.Fatalf("the fallback was called %d times", n)
	}
}

// A temperature Claude Opus 4.7 refuses passes the deployment over for
// its fallback, is dropped under drop_params (and said so), and is a 400
// naming it when nothing else can serve it; the deployment's breaker
// never sees the refusal.
func TestTemperatureTodaysClaudeRefuses(t *testing.T) {
	e := newEnv(t, todaysClaude, "anthropic", "openai")
	const req = `{"model":"%s","temperature":0.3,"messages":[{"role":"user","content":"Hello"}]}`
	status, h, body := e.post("/v1/chat/completions", strings.Replace(req, "%s", "opus", 1))
	if status != 200 || h.Get("X-Breakerd-Provider") != "openai" || h.Get("X-Breakerd-Fallback") != "true" {
		t.Fatalf("status %d, headers %v, body %v", status, h, body)
	}
	status, h, body = e.post("/v1/chat/completions", strings.Replace(req, "%s", "opus-dropping", 1))
	if status != 200 || h.Get("X-Breakerd-Provider") != "anthropic" || h.Get("X-Breakerd-Dropped-Params") != "temperature" {
		t.Fatalf("status %d, headers %v, body %v", status, h, body)
	}
	status, _, body = e.post("/v1/chat/completions", `{"model":"opus","temperature":0.3,"disable_fallbacks":true,"messages":[{"role":"user","content":"Hello"}]}`)
	msg, _ := body["error"].(map[string]any)["message"].(string)
	if status != 400 || !strings.Contains(msg, `"temperature"`) || !strings.Contains(msg, "Claude Opus 4.7") {
		t.Fatalf("status %d, body %v", status, body)
	}
	if n := e.mocks["anthropic"].Stats().Messages; n != 1 {
		t.Fatalf("Anthropic got %d requests, want the dropping deployment's one", n)
	}
	if c := e.breaker("opus/anthropic/claude-opus-4-7:chat").Counts(); c.Failures != 0 {
		t.Fatalf("breaker counts %+v", c)
	}
}

// claudeGenerations falls back from Claude Opus 4.8 to Haiku 4.5, two
// Anthropic accounts (mocks), as configs do along a family.
const claudeGenerations = `
model_list:
  - model_name: claude-opus
    litellm_params: {model: anthropic/claude-opus-4-8, api_base: "${MOCK_NEW}", api_key: sk-ant-secret-key}
  - model_name: claude-haiku
    litellm_params: {model: anthropic/claude-haiku-4-5, api_base: "${MOCK_OLD}", api_key: sk-ant-secret-key}
router_settings:
  fallbacks: [{claude-opus: [claude-haiku]}]
`

// A Messages client (Claude Code's kind) asking Opus 4.8 for adaptive
// thinking at an effort still thinks when Opus is down and Haiku 4.5,
// which takes only a budget and no effort, serves: the request is fitted
// to it rather than refused.
func TestMessagesFallBackAcrossClaudeGenerations(t *testing.T) {
	e := newEnv(t, claudeGenerations, "new", "old")
	e.mocks["new"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	var resp *http.Response
	client := e.anthropicClient()
	msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{
		Model: "claude-opus", MaxTokens: 16000,
		Thinking:     anthropic.ThinkingConfigParamUnion{OfAdaptive: &anthropic.ThinkingConfigAdaptiveParam{Display: "summarized"}},
		OutputConfig: anthropic.OutputConfigParam{Effort: anthropic.OutputConfigEffortHigh},
		Messages:     []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello"))},
	}, aoption.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Breakerd-Deployment") != "claude-haiku/anthropic/claude-haiku-4-5" || len(msg.Content) != 2 ||
		msg.Content[0].Type != "thinking" || msg.Content[0].Thinking == "" || !strings.Contains(msg.Content[1].Text, "You said: Hello") {
		t.Fatalf("headers %v, message %+v", resp.Header, msg)
	}
	if n := e.mocks["new"].Stats().Messages; n != 1 {
		t.Fatalf("Opus was asked %d times", n)
	}
}

// With OpenAI down, what OpenAI clients send today (prompt caching's key,
// safety_identifier) does not keep the Anthropic fallback from serving;
// a parameter it cannot take (verbosity) passes it over, so the client
// gets the outage's 503, not a 400 from the fallback.
func TestTodaysOpenAIParametersFallBackToAnthropic(t *testing.T) {
	e := newEnv(t, openAIToAnthropic, "openai", "anthropic")
	e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 500})
	var resp *http.Response
	out, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		PromptCacheKey: openai.String("agent-7"), SafetyIdentifier: openai.String("u-hash"),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}}, option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Breakerd-Provider") != "anthropic" || !strings.Contains(out.Choices[0].Message.Content, "You said: Hello") {
		t.Fatalf("headers %v, answer %s", resp.Header, out.RawJSON())
	}
	status, _, body := e.post("/v1/chat/completions", `{"model":"gpt-4o-mini","verbosity":"low","messages":[{"role":"user","content":"Hello"}]}`)
	if status != 503 || e.mocks["anthropic"].Stats().Messages != 1 {
		t.Fatalf("status %d, body %v; Anthropic asked %d times", status, body, e.mocks["anthropic"].Stats().Messages)
	}
}

// sonnet45 serves Claude Sonnet 4.5 (the mock, as Anthropic).
const sonnet45 = `
model_list:
  - model_name: sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
`

// messageOf is a chat completion's first message, from its JSON; nil when
// it has none.
func messageOf(body map[string]any) map[string]any {
	choices, _ := body["choices"].([]any)
	if len(choices) == 0 {
		return nil
	}
	choice, _ := choices[0].(map[string]any)
	msg, _ := choice["message"].(map[string]any)
	return msg
}

// Structured outputs on Claude: with thinking on, Anthropic refuses the
// forced tool JSON mode is made of, so a json_schema goes as structured
// outputs' output_config.format to a Claude that takes it, and the
// answer follows the schema (the mock, as Anthropic, answers a value of
// it), its thinking beside it.
func TestStructuredOutputWithThinkingOnClaude(t *testing.T) {
	e := newEnv(t, sonnet45, "anthropic")
	status, _, body := e.post("/v1/chat/completions", `{"model":"sonnet","reasoning_effort":"low","max_tokens":4000,`+
		`"response_format":{"type":"json_schema","json_schema":{"name":"place","schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},`+
		`"messages":[{"role":"user","content":"Where?"}]}`)
	msg := messageOf(body)
	if status != 200 || msg["content"] != `{"city":"mock"}` || msg["reasoning_content"] == nil {
		t.Fatalf("status %d, body %v", status, body)
	}
}

// A tool loop with thinking on: Claude wants the thinking that led to the
// last tool call sent back before it. An OpenAI client that keeps none
// gets its next step without thinking (as LiteLLM's modify_params does)
// rather than Anthropic's 400; one that sends thinking_blocks back keeps
// thinking.
func TestToolLoopWithThinkingOnClaude(t *testing.T) {
	e := newEnv(t, sonnet45, "anthropic")
	const call = `"tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}}]`
	for _, tc := range []struct {
		name, assistant string
		thinks          bool
	}{
		{"no thinking kept", `{"role":"assistant","content":null,` + call + `}`, false},
		{"its thinking_blocks sent back", `{"role":"assistant","content":null,"thinking_blocks":[{"type":"thinking","thinking":"t","signature":"mocksig_1"}],` + call + `}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := e.post("/v1/chat/completions", `{"model":"sonnet","reasoning_effort":"low","max_tokens":4000,`+
				`"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],`+
				`"messages":[{"role":"user","content":"Hi"},`+tc.assistant+`,{"role":"tool","tool_call_id":"t1","content":"ok"}]}`)
			if status != 200 {
				t.Fatalf("status %d, body %v", status, body)
			}
			msg := messageOf(body)
			if _, thought := msg["reasoning_content"]; thought != tc.thinks {
				t.Fatalf("message %v, want thinking %v", msg, tc.thinks)
			}
		})
	}
}

// A Messages request's temperature, which the client wrote for Sonnet
// 4.5, is one Opus 4.8 refuses: at the Opus fallback it is dropped under
// drop_params (and said so), not Anthropic's 400.
func TestMessagesSamplingAtAClaudeFallbackThatRefusesIt(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: sonnet
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_OLD}", api_key: sk-ant-secret-key}
  - model_name: opus
    litellm_params: {model: anthropic/claude-opus-4-8, api_base: "${MOCK_NEW}", api_key: sk-ant-secret-key, drop_params: true}
router_settings:
  fallbacks: [{sonnet: [opus]}]
`, "old", "new")
	e.mocks["old"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	var resp *http.Response
	client := e.anthropicClient()
	msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "sonnet", MaxTokens: 256,
		Temperature: anthropic.Float(0.5), Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello"))}},
		aoption.WithResponseInto(&resp))
	if err != nil || !strings.Contains(msg.Content[0].Text, "Hello from new!") || resp.Header.Get("X-Breakerd-Dropped-Params") != "temperature" {
		t.Fatalf("%v: %+v %v", err, msg, resp.Header)
	}
}

// A conversation that ends with the assistant's message (a prefill, which
// clients send for Claude to go on from) is one Claude 4.6 and later
// refuse: the Opus 4.8 deployment is passed over, uncalled, for Haiku
// 4.5, which takes it, from a Messages client and a chat client alike;
// with no fallback, the client gets a 400 that says so, and Opus's
// breaker sees nothing.
func TestPrefillPassesOverAClaudeThatRefusesIt(t *testing.T) {
	e := newEnv(t, claudeGenerations, "new", "old")
	var resp *http.Response
	client := e.anthropicClient()
	msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "claude-opus", MaxTokens: 256,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Give me JSON")),
			anthropic.NewAssistantMessage(anthropic.NewTextBlock("{"))}}, aoption.WithResponseInto(&resp))
	if err != nil || resp.Header.Get("X-Breakerd-Deployment") != "claude-haiku/anthropic/claude-haiku-4-5" || !strings.Contains(msg.Content[0].Text, "Hello from old!") {
		t.Fatalf("%v: headers %v, message %+v", err, resp.Header, msg)
	}
	out, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "claude-opus",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Answer in JSON"), openai.UserMessage("Give me JSON"), openai.AssistantMessage("{")}},
		option.WithResponseInto(&resp))
	if err != nil || resp.Header.Get("X-Breakerd-Deployment") != "claude-haiku/anthropic/claude-haiku-4-5" || !strings.Contains(out.Choices[0].Message.Content, "Hello from old!") {
		t.Fatalf("%v: headers %v", err, resp.Header)
	}
	status, _, body := e.post("/v1/chat/completions", `{"model":"claude-opus","disable_fallbacks":true,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"{"}]}`)
	errMsg, _ := body["error"].(map[string]any)["message"].(string)
	if status != 400 || !strings.Contains(errMsg, "claude-opus-4-8 does not take a conversation that ends with an assistant message (a prefill)") {
		t.Fatalf("status %d, body %v", status, body)
	}
	status, _, body = e.post("/v1/chat/completions", `{"model":"claude-opus","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":"Again"}]}`)
	if status != 200 || e.mocks["new"].Stats().Messages != 1 {
		t.Fatalf("a conversation ending with the user's: status %d, body %v; Opus asked %d times", status, body, e.mocks["new"].Stats().Messages)
	}
	if c := e.breaker("claude-opus/anthropic/claude-opus-4-8:chat").Counts(); c.Failures != 0 {
		t.Fatalf("breaker counts %+v", c)
	}
}

// Claude Fable 5's classifiers may decline a request: an answer with
// stop_reason "refusal", not an error. A Messages client may ask
// Anthropic to retry it on other models (its server-side fallback: the
// fallbacks parameter under its beta): breakerd sends that on to
// Anthropic, whose fallback answers, instead of reading it as LiteLLM's
// fallbacks (model groups it does not have); without it, the refusal
// reaches the client as Anthropic gave it, and the breaker counts no
// failure.
func TestAnthropicsServerSideFallbackIsSentOn(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: fable
    litellm_params: {model: anthropic/claude-fable-5, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
`, "anthropic")
	e.mocks["anthropic"].SetFaults(mockllm.Faults{BlockedWords: []string{"exploit"}})
	client := e.anthropicClient()
	ask := func(fallbacks anthropic.BetaFallbacksParamUnion, betas ...anthropic.AnthropicBeta) *anthropic.BetaMessage {
		t.Helper()
		msg, err := client.Beta.Messages.New(context.Background(), anthropic.BetaMessageNewParams{Model: "fable", MaxTokens: 256,
			Betas: betas, Fallbacks: fallbacks,
			Messages: []anthropic.BetaMessageParam{anthropic.NewBetaUserMessage(anthropic.NewBetaTextBlock("Explain this exploit"))}})
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	named := anthropic.BetaFallbacksParamUnion{OfBetaFallbackArray: []anthropic.BetaFallbackParam{{Model: "claude-opus-4-8"}}}
	for name, msg := range map[string]*anthropic.BetaMessage{
		"a fallback named":   ask(named, anthropic.AnthropicBetaServerSideFallback2026_06_01),
		"Anthropic's choice": ask(anthropic.BetaFallbacksParamOfDefault(), anthropic.AnthropicBetaServerSideFallback2026_07_01),
	} {
		if msg.Model != "claude-opus-4-8" || msg.StopReason != "end_turn" || len(msg.Usage.Iterations) != 2 || !strings.Contains(msg.Content[0].Text, "exploit") {
			t.Fatalf("%s: %s", name, msg.RawJSON())
		}
	}
	if msg := ask(anthropic.BetaFallbacksParamUnion{}); msg.StopReason != "refusal" || msg.StopDetails.Category != "cyber" || len(msg.Content) != 0 {
		t.Fatalf("no fallback: %s", msg.RawJSON())
	}
	if c := e.breaker("fable/anthropic/claude-fable-5:chat").Counts(); c.Failures != 0 || c.Successes != 3 {
		t.Fatalf("breaker counts %+v", c)
	}
}

// A Messages client's thinking (Claude Code's) still reasons at a GPT
// fallback: GPT-5.4 gets it as a reasoning_effort (without one it would
// not reason at all), and GPT-4o and GPT-5 Chat, which refuse
// reasoning_effort, and an OpenAI-compatible server, which may, serve the
// request without it rather than being passed over or refusing it.
func TestMessagesThinkingReasonsAtAGPTFallback(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
  - model_name: gpt54
    litellm_params: {model: openai/gpt-5.4, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: gpt4o
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: gpt5chat
    litellm_params: {model: openai/gpt-5-chat-latest, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: llama
    litellm_params: {model: openai/llama-3.3-70b, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: gpt56
    litellm_params: {model: openai/gpt-5.6-terra, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
router_settings:
  fallbacks: [{claude: [gpt54]}]
`, "anthropic", "openai")
	e.mocks["anthropic"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	client := e.anthropicClient()
	for _, tc := range []struct{ model, sent string }{
		{"claude", `"reasoning_effort":"high"`},
		{"gpt4o", ""},
		{"gpt5chat", ""}, // GPT-5's name, but it does not reason
		{"llama", ""},    // a server that may not take it
	} {
		var resp *http.Response
		msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: anthropic.Model(tc.model), MaxTokens: 16000,
			Thinking: anthropic.ThinkingConfigParamOfEnabled(10000),
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello"))}}, aoption.WithResponseInto(&resp))
		if err != nil {
			t.Fatalf("%s: %v", tc.model, err)
		}
		if !strings.Contains(msg.Content[0].Text, "Hello from openai!") || resp.Header.Get("X-Breakerd-Dropped-Params") != "" {
			t.Fatalf("%s: %+v, headers %v", tc.model, msg, resp.Header)
		}
		if sent := e.mocks["openai"].LastBody(); tc.sent != "" && !strings.Contains(sent, tc.sent) || tc.sent == "" && strings.Contains(sent, "reasoning_effort") {
			t.Fatalf("%s: the deployment got %s", tc.model, sent)
		}
	}
	// Claude Code's requests carry tools: GPT-5.4 and later take them in
	// chat completions only without reasoning, so the effort is left out,
	// and GPT-5.6, which reasons by default, is asked for none.
	for model, sent := range map[string]string{"gpt54": `"tools"`, "gpt56": `"reasoning_effort":"none"`} {
		msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: 16000,
			Thinking: anthropic.ThinkingConfigParamOfEnabled(10000),
			Tools:    []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "read", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{}}}}},
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello"))}})
		if got := e.mocks["openai"].LastBody(); err != nil || len(msg.Content) == 0 || !strings.Contains(got, sent) || model == "gpt54" && strings.Contains(got, "reasoning_effort") {
			t.Fatalf("%s with tools: %v; the deployment got %s", model, err, got)
		}
	}
}

// A request Claude Fable 5's classifiers decline (an answer with
// stop_reason "refusal", not an error) goes to the group's
// content_policy_fallbacks, as LiteLLM's router does since 2026, for a
// Messages client and a chat client alike; Fable's breaker counts a
// success (the upstream is well).
func TestClassifierRefusalGoesToContentPolicyFallbacks(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: fable
    litellm_params: {model: anthropic/claude-fable-5, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key, drop_params: true}
  - model_name: gpt
    litellm_params: {model: openai/gpt-5.5, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
router_settings:
  content_policy_fallbacks: [{fable: [gpt]}]
`, "anthropic", "openai")
	e.mocks["anthropic"].SetFaults(mockllm.Faults{BlockedWords: []string{"exploit"}})
	var resp *http.Response
	client := e.anthropicClient()
	msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "fable", MaxTokens: 256,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Explain this exploit"))}}, aoption.WithResponseInto(&resp))
	if err != nil || msg.StopReason == "refusal" || !strings.Contains(msg.Content[0].Text, "Hello from openai!") || resp.Header.Get("X-Breakerd-Provider") != "openai" {
		t.Fatalf("%v: headers %v, message %+v", err, resp.Header, msg)
	}
	out, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "fable",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Explain this exploit")}}, option.WithResponseInto(&resp))
	if err != nil || !strings.Contains(out.Choices[0].Message.Content, "Hello from openai!") || resp.Header.Get("X-Breakerd-Provider") != "openai" {
		t.Fatalf("chat: %v, headers %v", err, resp.Header)
	}
	if c := e.breaker("fable/anthropic/claude-fable-5:chat").Counts(); c.Failures != 0 || c.Successes != 2 {
		t.Fatalf("breaker counts %+v", c)
	}
}

// A stream Claude Fable 5's classifiers decline before any content (a
// message_start, then a message_delta whose stop_reason is "refusal")
// goes to the group's content_policy_fallbacks too, for a streaming
// Messages client and a streaming chat client, which never see the
// refusal; without such a group the refusal streams on as Anthropic
// sent it (a chat client's finish_reason content_filter).
func TestStreamedClassifierRefusal(t *testing.T) {
	const deployments = `
model_list:
  - model_name: fable
    litellm_params: {model: anthropic/claude-fable-5, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key, drop_params: true}
  - model_name: gpt
    litellm_params: {model: openai/gpt-5.5, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
`
	messages := func(e *env) (anthropic.Message, string, error) {
		var resp *http.Response
		client := e.anthropicClient()
		msg, err := drainMessages(client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{Model: "fable", MaxTokens: 256,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Explain this exploit"))}}, aoption.WithResponseInto(&resp)))
		return msg, resp.Header.Get("X-Breakerd-Provider"), err
	}
	chat := func(e *env) (text, finish, provider string, err error) {
		var resp *http.Response
		stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "fable",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Explain this exploit")}}, option.WithResponseInto(&resp))
		defer stream.Close()
		for stream.Next() {
			for _, c := range stream.Current().Choices {
				text += c.Delta.Content
				finish = cmp.Or(c.FinishReason, finish)
			}
		}
		return text, finish, resp.Header.Get("X-Breakerd-Provider"), stream.Err()
	}
	t.Run("to content_policy_fallbacks", func(t *testing.T) {
		e := newEnv(t, deployments+"router_settings:\n  content_policy_fallbacks: [{fable: [gpt]}]\n", "anthropic", "openai")
		e.mocks["anthropic"].SetFaults(mockllm.Faults{BlockedWords: []string{"exploit"}})
		msg, provider, err := messages(e)
		if err != nil || msg.StopReason == "refusal" || len(msg.Content) == 0 || !strings.Contains(msg.Content[0].Text, "Hello from openai!") || provider != "openai" {
			t.Fatalf("messages: %v, provider %q, message %+v", err, provider, msg)
		}
		text, finish, provider, err := chat(e)
		if err != nil || !strings.Contains(text, "Hello from openai!") || finish != "stop" || provider != "openai" {
			t.Fatalf("chat: %v, provider %q, %q (%s)", err, provider, text, finish)
		}
		if c := e.breaker("fable/anthropic/claude-fable-5:chat").Counts(); c.Failures != 0 || c.Successes != 2 {
			t.Fatalf("breaker counts %+v", c)
		}
	})
	t.Run("without them, as sent", func(t *testing.T) {
		e := newEnv(t, deployments, "anthropic", "openai")
		e.mocks["anthropic"].SetFaults(mockllm.Faults{BlockedWords: []string{"exploit"}})
		msg, provider, err := messages(e)
		if err != nil || msg.StopReason != "refusal" || len(msg.Content) != 0 || provider != "anthropic" || msg.Usage.InputTokens == 0 {
			t.Fatalf("messages: %v, provider %q, message %+v", err, provider, msg)
		}
		text, finish, provider, err := chat(e)
		if err != nil || text != "" || finish != "content_filter" || provider != "anthropic" {
			t.Fatalf("chat: %v, provider %q, %q (%s)", err, provider, text, finish)
		}
	})
	t.Run("an answer that starts is not declined", func(t *testing.T) {
		e := newEnv(t, deployments+"router_settings:\n  content_policy_fallbacks: [{fable: [gpt]}]\n", "anthropic", "openai")
		msg, provider, err := messages(e)
		if err != nil || msg.StopReason != "end_turn" || !strings.Contains(msg.Content[0].Text, "Hello from anthropic!") || provider != "anthropic" {
			t.Fatalf("messages: %v, provider %q, message %+v", err, provider, msg)
		}
	})
}

// A Claude Code session whose tool loop went on at a deployment that does
// not think as Claude does (a chat one, translated) comes back to Claude
// with thinking on and an assistant tool call that no thinking led:
// Anthropic refuses it ("a final `assistant` message must start with a
// thinking block"). That step goes without thinking, as LiteLLM's
// modify_params does, said in a log line, and without Claude Code's
// context management edit that clears thinking, which Anthropic refuses
// without thinking; a loop whose thinking came back keeps both.
func TestMessagesToolLoopWithoutThinkingAtClaude(t *testing.T) {
	e := newEnv(t, sonnet45, "anthropic")
	client := e.anthropicClient()
	tools := []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "w", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{}}}}}
	for _, tc := range []struct {
		name   string
		led    []anthropic.ContentBlockParamUnion
		thinks bool
	}{
		{"no thinking led the call", []anthropic.ContentBlockParamUnion{anthropic.NewToolUseBlock("toolu_1", map[string]any{}, "w")}, false},
		{"Claude's thinking led it", []anthropic.ContentBlockParamUnion{anthropic.NewThinkingBlock("mocksig_1", "check the weather"),
			anthropic.NewToolUseBlock("toolu_1", map[string]any{}, "w")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := len(e.logs.String())
			msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "sonnet", MaxTokens: 4096, Tools: tools,
				Thinking: anthropic.ThinkingConfigParamOfEnabled(2048),
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("weather?")),
					anthropic.NewAssistantMessage(tc.led...),
					anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_1", "sunny", false))}},
				aoption.WithJSONSet("context_management", map[string]any{"edits": []map[string]any{
					{"type": "clear_thinking_20251015", "keep": map[string]any{"type": "thinking_turns", "value": 1}},
					{"type": "clear_tool_uses_20250919"}}}))
			if err != nil {
				t.Fatalf("the next step at Claude: %v", err)
			}
			thought := msg.Content[0].Type == "thinking"
			logged := strings.Contains(e.logs.String()[mark:], "without thinking")
			sent := e.mocks["anthropic"].LastBody()
			if clears := strings.Contains(sent, "clear_thinking_"); clears != tc.thinks || !strings.Contains(sent, "clear_tool_uses_") {
				t.Fatalf("Claude got %s", sent)
			}
			if thought != tc.thinks || logged == tc.thinks {
				t.Fatalf("thinking %v (want %v), logged %v: %s", thought, tc.thinks, logged, e.logs.String()[mark:])
			}
		})
	}
}

// Codex at Claude (translated): asked for a reasoning summary and its
// encrypted content, it gets Claude's thinking as a reasoning item whose
// encrypted content carries the signed thinking blocks, whole and
// streamed; sent back before a tool call, they go to Claude again as the
// thinking that led it, so the tool loop keeps thinking (without them,
// the step would go without).
func TestCodexKeepsClaudesThinkingThroughAToolLoop(t *testing.T) {
	e := newEnv(t, sonnet45, "anthropic")
	ctx := context.Background()
	ask := responses.ResponseNewParams{Model: "sonnet", Store: openai.Bool(false),
		Include:   []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent},
		Reasoning: shared.ReasoningParam{Effort: shared.ReasoningEffortLow, Summary: shared.ReasoningSummaryAuto},
		Input:     responses.ResponseNewParamsInputUnion{OfString: openai.String("weather?")}}
	answers := e.responsesBothWays(ctx, ask)
	for how, r := range answers {
		if len(r.Output) != 2 || r.Output[0].Type != "reasoning" || len(r.Output[0].Summary) != 1 ||
			!strings.HasPrefix(r.Output[0].EncryptedContent, provider.ThinkingContentPrefix) {
			t.Fatalf("%s: %s", how, r.RawJSON())
		}
	}
	rp := answers["streamed"].Output[0].AsReasoning().ToParam()
	output := responses.ResponseInputItemParamOfFunctionCallOutput("sunny")
	output.OfFunctionCallOutput.CallID = openai.String("call_1")
	next := ask
	next.Tools = []responses.ToolUnionParam{responses.ToolParamOfFunction("w", map[string]any{"type": "object"}, false)}
	next.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfMessage("weather?", responses.EasyInputMessageRoleUser),
		{OfReasoning: &rp},
		responses.ResponseInputItemParamOfFunctionCall("{}", "call_1", "w"),
		output}}
	r, err := e.client.Responses.New(ctx, next)
	if sent := e.mocks["anthropic"].LastBody(); err != nil || !strings.Contains(sent, `"signature":"mocksig_`) || r.Output[0].Type != "reasoning" {
		t.Fatalf("the tool loop's next step: %v, %s; Claude got %s", err, r.RawJSON(), sent)
	}
	without := next
	without.Include = nil
	if r, err = e.client.Responses.New(ctx, without); err != nil || r.Output[0].Type == "reasoning" && r.Output[0].EncryptedContent != "" {
		t.Fatalf("not asked for encrypted content: %v %s", err, r.RawJSON())
	}
}
