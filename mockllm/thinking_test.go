package mockllm

import (
	"encoding/json"
	"strings"
	"testing"

	anthropicsdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
	"github.com/anthropics/anthropic-sdk-go/packages/ssestream"
)

// The mock thinks as Claude does, for the official SDK: a thinking block
// with its signature before the answer (its text omitted on Claude Opus
// 4.7's contract unless summarized), in a stream too, billed either way.
func TestMessagesThinkAsClaudeDoes(t *testing.T) {
	_, url := newMock(t, Options{Name: "c", APIKey: "sk-ant"})
	client := anthropicsdk.NewClient(option.WithBaseURL(url), option.WithAPIKey("sk-ant"), option.WithMaxRetries(0))
	for _, tc := range []struct {
		name     string
		model    string
		thinking anthropicsdk.ThinkingConfigParamUnion
		effort   anthropicsdk.OutputConfigEffort
		want     string
	}{
		{"adaptive, summarized", "claude-opus-4-7", anthropicsdk.ThinkingConfigParamUnion{OfAdaptive: &anthropicsdk.ThinkingConfigAdaptiveParam{Display: "summarized"}}, "high", thinkingText},
		{"adaptive, omitted by default", "claude-opus-4-8", anthropicsdk.ThinkingConfigParamUnion{OfAdaptive: &anthropicsdk.ThinkingConfigAdaptiveParam{}}, "max", ""},
		{"a budget on an earlier model", "claude-sonnet-4-5", anthropicsdk.ThinkingConfigParamUnion{OfEnabled: &anthropicsdk.ThinkingConfigEnabledParam{BudgetTokens: 1024}}, "", thinkingText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := anthropicsdk.MessageNewParams{Model: anthropicsdk.Model(tc.model), MaxTokens: 2048, Thinking: tc.thinking,
				OutputConfig: anthropicsdk.OutputConfigParam{Effort: tc.effort},
				Messages:     []anthropicsdk.MessageParam{anthropicsdk.NewUserMessage(anthropicsdk.NewTextBlock("hey"))}}
			msg, err := client.Messages.New(t.Context(), params)
			if err != nil {
				t.Fatal(err)
			}
			if len(msg.Content) != 2 || msg.Content[0].Type != "thinking" || msg.Content[0].Thinking != tc.want || msg.Content[0].Signature == "" ||
				msg.Content[1].Text != "Hello from c! You said: hey" || msg.Usage.OutputTokens <= 6 {
				t.Fatalf("answer %+v", msg)
			}
			acc := accumulated(t, client.Messages.NewStreaming(t.Context(), params))
			if len(acc.Content) != 2 || acc.Content[0].Thinking != tc.want || acc.Content[0].Signature != "mocksig_"+acc.ID ||
				acc.Content[1].Text != "Hello from c! You said: hey" {
				t.Fatalf("stream accumulated %+v", acc)
			}
		})
	}
}

// And refuses what Claude refuses, with Anthropic's 400s.
func TestMessagesRefuseWhatClaudeRefuses(t *testing.T) {
	_, url := newMock(t, Options{APIKey: "sk-ant"})
	h := map[string]string{"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}
	for _, tc := range []struct {
		name, model, params, want string
	}{
		{"a budget on Opus 4.7", "claude-opus-4-7", `"thinking":{"type":"enabled","budget_tokens":2000}`, "thinking.type.enabled"},
		{"temperature on Opus 4.8", "claude-opus-4-8", `"temperature":0.5`, "`temperature` is deprecated"},
		{"top_p on Fable 5", "claude-fable-5", `"top_p":0.5`, "`top_p` is deprecated"},
		{"temperature with thinking", "claude-sonnet-4-5", `"temperature":0.5,"thinking":{"type":"enabled","budget_tokens":2000}`, "only be set to 1"},
		{"a budget under 1024", "claude-sonnet-4-5", `"thinking":{"type":"enabled","budget_tokens":500}`, "greater than or equal to 1024"},
		{"a budget over max_tokens", "claude-sonnet-4-5", `"thinking":{"type":"enabled","budget_tokens":5000}`, "must be greater than `thinking.budget_tokens`"},
		{"adaptive on Haiku 4.5", "claude-haiku-4-5", `"thinking":{"type":"adaptive"}`, "adaptive thinking is not supported"},
		{"an effort on Sonnet 4.5", "claude-sonnet-4-5", `"output_config":{"effort":"high"}`, "effort is not supported"},
		{"thinking on Claude 3.5", "claude-3-5-sonnet-20241022", `"thinking":{"type":"enabled","budget_tokens":2000}`, "thinking is not supported"},
		{"adaptive and an effort on Sonnet 4.6", "claude-sonnet-4-6", `"thinking":{"type":"adaptive"},"output_config":{"effort":"low"}`, ""},
		{"temperature and top_p on Sonnet 4.5", "claude-sonnet-4-5-20250929", `"temperature":0.5,"top_p":0.9`, "cannot both be specified"},
		{"temperature and top_p on Sonnet 4", "claude-sonnet-4-20250514", `"temperature":0.5,"top_p":0.9`, ""},
		{"temperature 1 on Opus 4.7", "claude-opus-4-7", `"temperature":1`, ""},
		{"temperature without thinking", "claude-sonnet-4-5", `"temperature":0.5`, ""},
		{"clearing thinking without thinking", "claude-sonnet-4-5", `"context_management":{"edits":[{"type":"clear_thinking_20251015"}]}`,
			"`clear_thinking_20251015` strategy requires `thinking` to be enabled"},
		{"clearing thinking with thinking", "claude-sonnet-4-5", `"context_management":{"edits":[{"type":"clear_thinking_20251015"}]},"thinking":{"type":"enabled","budget_tokens":2000}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := post(t, url+"/v1/messages", `{"model":"`+tc.model+`","max_tokens":4096,"messages":[{"role":"user","content":"hi"}],`+tc.params+`}`, h)
			if tc.want == "" {
				if resp.StatusCode != 200 {
					t.Fatalf("%d %s", resp.StatusCode, data)
				}
				return
			}
			if resp.StatusCode != 400 || !strings.Contains(string(data), tc.want) || !strings.Contains(string(data), "invalid_request_error") {
				t.Fatalf("%d %s, want a 400 saying %s", resp.StatusCode, data, tc.want)
			}
		})
	}
}

// A prefill (a conversation that ends with the assistant's message) is
// Claude's to go on from up to Claude 4.5, and a 400 from Claude 4.6 on.
func TestMessagesRefuseAPrefillFromClaude46(t *testing.T) {
	_, url := newMock(t, Options{APIKey: "sk-ant"})
	h := map[string]string{"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}
	for _, tc := range []struct {
		model, messages string
		refused         bool
	}{
		{"claude-sonnet-4-6", `[{"role":"user","content":"hi"},{"role":"assistant","content":"{"}]`, true},
		{"claude-opus-4-7", `[{"role":"user","content":"hi"},{"role":"assistant","content":"{"}]`, true},
		{"claude-sonnet-4-6", `[{"role":"user","content":"hi"},{"role":"assistant","content":"{"},{"role":"user","content":"go on"}]`, false},
		{"claude-haiku-4-5", `[{"role":"user","content":"hi"},{"role":"assistant","content":"{"}]`, false},
		{"gpt-oss-120b", `[{"role":"user","content":"hi"},{"role":"assistant","content":"{"}]`, false},
	} {
		t.Run(tc.model+" "+tc.messages, func(t *testing.T) {
			resp, data := post(t, url+"/v1/messages", `{"model":"`+tc.model+`","max_tokens":256,"messages":`+tc.messages+`}`, h)
			if refused := resp.StatusCode == 400 && strings.Contains(string(data), "does not support assistant message prefill"); refused != tc.refused {
				t.Fatalf("%d %s, want refused %v", resp.StatusCode, data, tc.refused)
			}
			if !tc.refused && resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
		})
	}
}

// With budget thinking on, the mock, as Claude, wants the thinking that
// led to the last tool call sent back before it, signed by Claude
// (adaptive thinking, which may skip thinking, does not).
func TestMessagesWantThinkingBeforeTheLastToolCall(t *testing.T) {
	_, url := newMock(t, Options{APIKey: "sk-ant"})
	h := map[string]string{"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}
	call := `{"type":"tool_use","id":"t1","name":"f","input":{}}`
	for _, tc := range []struct {
		name, assistant string
		status          int
		thinking        string
	}{
		{"the tool call alone", `[` + call + `]`, 400, ""},
		{"the tool call alone, thinking adaptive (which may skip it)", `[` + call + `]`, 200, `{"type":"adaptive"}`},
		{"its thinking first", `[{"type":"thinking","thinking":"t","signature":"mocksig_1"},` + call + `]`, 200, ""},
		{"thinking Claude did not sign", `[{"type":"thinking","thinking":"t","signature":"breakerd:reasoning"},` + call + `]`, 400, ""},
		{"no tool call", `"a text answer"`, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			model, thinking := "claude-sonnet-4-5", `{"type":"enabled","budget_tokens":2000}`
			if tc.thinking != "" {
				model, thinking = "claude-sonnet-4-6", tc.thinking
			}
			resp, data := post(t, url+"/v1/messages", `{"model":"`+model+`","max_tokens":4096,"thinking":`+thinking+`,`+
				`"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":`+tc.assistant+`},`+
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}]}`, h)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, data, tc.status)
			}
		})
	}
}

// accumulated is a Messages stream read to its end by the SDK's own
// accumulator.
func accumulated(t *testing.T, stream *ssestream.Stream[anthropicsdk.MessageStreamEventUnion]) anthropicsdk.Message {
	t.Helper()
	var acc anthropicsdk.Message
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	return acc
}

// Thinking chat models want their reasoning back: DeepSeek's in every
// assistant message, Kimi's in those that call tools; others do not ask.
func TestReasoningMissing(t *testing.T) {
	empty := ""
	text := chatMessage{Role: "assistant"}
	call := chatMessage{Role: "assistant", ToolCalls: []json.RawMessage{json.RawMessage(`{}`)}}
	kept := chatMessage{Role: "assistant", ReasoningContent: &empty, ToolCalls: call.ToolCalls}
	user := chatMessage{Role: "user"}
	for _, tc := range []struct {
		name, model string
		msgs        []chatMessage
		want        string // in the 400, "" for none
		thinks      bool
	}{
		{"DeepSeek, an answer without", "deepseek-reasoner", []chatMessage{user, text, user}, "assistant message at message index 1", true},
		{"DeepSeek, each kept", "deepseek-v4-pro", []chatMessage{user, kept, user}, "", true},
		{"Kimi, an answer without", "kimi-k2.5", []chatMessage{user, text, user}, "", true},
		{"Kimi, a tool call without", "kimi-k2.6", []chatMessage{user, text, user, call}, "assistant tool call message at index 3", true},
		{"Kimi through OpenRouter", "moonshotai/kimi-k2.5", []chatMessage{user, call}, "assistant tool call message at index 1", true},
		{"Kimi without thinking", "kimi-k2-instruct", []chatMessage{user, call}, "", false},
		{"GPT", "gpt-4o", []chatMessage{user, call}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why, thinks := reasoningMissing(tc.model, tc.msgs)
			if thinks != tc.thinks || (tc.want == "") != (why == "") || !strings.Contains(why, tc.want) {
				t.Fatalf("reasoningMissing = %q, %v; want %q, %v", why, thinks, tc.want, tc.thinks)
			}
		})
	}
}

// A Responses client that asks for a reasoning summary (reasoning.summary)
// gets one, in the reasoning item and streamed as OpenAI streams it: the
// summary part's added, its text's deltas, their done events, then the
// item's.
func TestResponsesSummariseReasoning(t *testing.T) {
	_, url := newMock(t, Options{})
	const ask = `"include":["reasoning.encrypted_content"],"store":false,"input":"hi"`
	_, whole := post(t, url+"/v1/responses", `{"model":"o4-mini","reasoning":{"summary":"auto"},`+ask+`}`, nil)
	if !strings.Contains(string(whole), `"summary":[{"text":"`+reasoningSummary+`","type":"summary_text"}]`) {
		t.Fatalf("answer %s: want the reasoning's summary", whole)
	}
	_, without := post(t, url+"/v1/responses", `{"model":"o4-mini",`+ask+`}`, nil)
	if !strings.Contains(string(without), `"summary":[]`) {
		t.Fatalf("answer %s: want no summary, none asked for", without)
	}
	_, stream := post(t, url+"/v1/responses", `{"model":"o4-mini","stream":true,"reasoning":{"summary":"auto"},`+ask+`}`, nil)
	var order []string
	deltas := ""
	for _, line := range strings.Split(string(stream), "\n") {
		typ, ok := strings.CutPrefix(line, "event: response.reasoning_summary_")
		if !ok {
			continue
		}
		if typ == "text.delta" {
			deltas += "+"
			continue
		}
		order = append(order, typ)
	}
	if got := strings.Join(order, ","); got != "part.added,text.done,part.done" || len(deltas) != 4 {
		t.Fatalf("summary events %s with %d deltas:\n%s", got, len(deltas), stream)
	}
}

// An open-weight reasoning model (gpt-oss) shows its reasoning as it is,
// in the reasoning item's content, whole and streamed as reasoning_text
// deltas between the part's added and done events; another model shows
// none unless asked.
func TestResponsesShowRawReasoning(t *testing.T) {
	_, url := newMock(t, Options{})
	_, whole := post(t, url+"/v1/responses", `{"model":"gpt-oss-120b","input":"hi"}`, nil)
	if !strings.Contains(string(whole), `"content":[{"text":"`+rawReasoning+`","type":"reasoning_text"}]`) {
		t.Fatalf("answer %s: want the reasoning as it is", whole)
	}
	if _, other := post(t, url+"/v1/responses", `{"model":"gpt-4o","input":"hi"}`, nil); strings.Contains(string(other), `"reasoning"`) {
		t.Fatalf("answer %s: want no reasoning item", other)
	}
	_, stream := post(t, url+"/v1/responses", `{"model":"gpt-oss-120b","stream":true,"input":"hi"}`, nil)
	var order []string
	for _, line := range strings.Split(string(stream), "\n") {
		if typ, ok := strings.CutPrefix(line, "event: "); ok && (strings.Contains(typ, "reasoning_text") || strings.HasPrefix(typ, "response.content_part")) {
			if len(order) == 0 || order[len(order)-1] != typ {
				order = append(order, typ)
			}
		}
	}
	want := "response.content_part.added response.reasoning_text.delta response.reasoning_text.done response.content_part.done"
	if got := strings.Join(order, " "); !strings.HasPrefix(got, want) {
		t.Fatalf("events %s, want %s first", got, want)
	}
}
