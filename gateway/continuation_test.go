package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"

	"github.com/breakerd/breakerd/mockllm"
)

// A chat stream that breaks after its first chunks goes on at the route's
// next deployment, as LiteLLM's mid-stream fallback does: that deployment
// gets the client's messages, the text the client already has as an
// assistant message and an instruction to continue, and its chunks reach
// the client on the same stream under the stream's id (the official SDK's
// accumulator keeps to one id), which ends cleanly; the broken stream
// counts against its deployment.
func TestBrokenStreamContinuesAtTheNextDeployment(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	// One answer first, so the primary's stream ids differ from the
	// backup's.
	if _, _, err := e.chat("gpt-4o-mini"); err != nil {
		t.Fatal(err)
	}
	e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: 3}) // the role, "Hello ", "from "
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("tell me")}})
	acc, chunks, err := drain(stream)
	if err != nil {
		t.Fatalf("after %d chunks: %v", chunks, err)
	}
	got := acc.Choices[0].Message.Content
	if !strings.HasPrefix(got, "Hello from Hello from backup!") || acc.ID != "chatcmpl-mock-2" {
		t.Fatalf("content %q, id %q: want the primary's text, then the backup's, under the primary's id", got, acc.ID)
	}
	var sent struct {
		Messages []struct{ Role, Content string }
	}
	if err := json.Unmarshal([]byte(e.mocks["backup"].LastBody()), &sent); err != nil {
		t.Fatal(err)
	}
	m := sent.Messages
	if len(m) != 3 || m[0].Content != "tell me" || m[1].Role != "assistant" || m[1].Content != "Hello from " ||
		m[2].Role != "user" || !strings.Contains(m[2].Content, "Continue it from exactly where it stopped") {
		t.Fatalf("the backup got messages %+v", m)
	}
	<-e.done
	if c := e.breaker(primaryChat).Counts(); c.Failures != 1 {
		t.Fatalf("primary counts %+v: the broken stream is a failure", c)
	}
	if move := <-e.moves; move != "gpt-4o-mini/openai/gpt-4o-mini -> claude-3-5-sonnet/openai/claude-3-5-sonnet: midstream" {
		t.Fatalf("move %q: want a midstream one", move)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"msg":"stream continued at another deployment"`) || !strings.Contains(logs, `"to":"claude-3-5-sonnet/openai/claude-3-5-sonnet"`) {
		t.Fatalf("logs lack the continuation:\n%s", logs)
	}
}

// A stream no deployment can continue ends with the error event, which
// says so; one whose request asks for several choices, or stores its
// completion, is not continued.
func TestBrokenStreamNoOneContinues(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		backup     mockllm.Faults
		want       string
	}{
		{"the next deployment fails too", `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]}`,
			mockllm.Faults{ErrorRate: 1, Status: 503}, "no other deployment could continue it"},
		{"several choices", `{"model":"gpt-4o-mini","stream":true,"n":2,"messages":[{"role":"user","content":"x"}]}`,
			mockllm.Faults{}, "the upstream stream broke"},
		{"a stored completion", `{"model":"gpt-4o-mini","stream":true,"store":true,"messages":[{"role":"user","content":"x"}]}`,
			mockllm.Faults{}, "the upstream stream broke"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, twoGroups, "primary", "backup")
			e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: 3})
			e.mocks["backup"].SetFaults(tc.backup)
			events := streamEvents(t, e, tc.body)
			last := events[len(events)-1]
			if !strings.Contains(last, `"error"`) || !strings.Contains(last, tc.want) {
				t.Fatalf("events %q: want an error event saying %q", events, tc.want)
			}
			<-e.done
		})
	}
}

// A stream that stalls mid-way (no chunk within its stream_timeout) goes
// on elsewhere too, its stall a timeout against its deployment.
func TestStalledStreamContinuesAtTheNextDeployment(t *testing.T) {
	cfg := strings.Replace(twoGroups, "      api_key: sk-primary-secret-key", "      api_key: sk-primary-secret-key\n      stream_timeout: 100ms", 1)
	e := newEnv(t, cfg, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{StallAfter: 2}) // the role, "Hello "
	acc, chunks, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), streamParams()))
	if err != nil || !strings.HasPrefix(acc.Choices[0].Message.Content, "Hello Hello from backup!") {
		t.Fatalf("after %d chunks, err %v, content %q", chunks, err, acc.Choices[0].Message.Content)
	}
	<-e.done
	if c := e.breaker(primaryChat).Counts(); c.Failures != 1 {
		t.Fatalf("primary counts %+v: the stall is a failure", c)
	}
}

// A Messages stream (Claude Code's) that breaks after its first text goes
// on at the route's next deployment too, a Claude one or an OpenAI one
// (translated): the continuation's text goes on in the client's open
// text block, its message_start and thinking left out, so the official
// SDK's accumulator has one message with one answer, ended cleanly; the
// next deployment got the text as an assistant message and the
// instruction to continue.
func TestBrokenMessagesStreamContinues(t *testing.T) {
	for _, tc := range []struct {
		name, backup string
		thinking     bool
		overloaded   bool // Anthropic's overloaded_error event, not a cut connection
	}{
		{"at another Claude", "anthropic/claude-sonnet-4-5", false, false},
		{"at an OpenAI model", "openai/gpt-4o-mini", false, false},
		{"after thinking, at a Claude that thinks", "anthropic/claude-sonnet-4-5", true, false},
		{"after an overloaded_error event", "anthropic/claude-sonnet-4-5", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := "${MOCK_BACKUP}"
			if strings.HasPrefix(tc.backup, "openai/") {
				base += "/v1"
			}
			e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_PRIMARY}", api_key: sk-ant-primary-key}
  - model_name: backup
    litellm_params: {model: `+tc.backup+`, api_base: "`+base+`", api_key: sk-backup-secret-key}
router_settings:
  fallbacks: [{claude: [backup]}]
`, "primary", "backup")
			params := anthropic.MessageNewParams{Model: "claude", MaxTokens: 4096,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("tell me"))}}
			cut := 5 // message_start, ping, the text block's start, "Hello ", "from "
			if tc.thinking {
				params.Thinking = anthropic.ThinkingConfigParamOfEnabled(1024)
				cut += 4 // the thinking block: start, text, signature, stop
			}
			if tc.overloaded {
				e.mocks["primary"].SetFaults(mockllm.Faults{OverloadAfter: cut})
			} else {
				e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: cut})
			}
			client := e.anthropicClient()
			msg, err := drainMessages(client.Messages.NewStreaming(context.Background(), params))
			if err != nil {
				t.Fatal(err)
			}
			text := msg.Content[len(msg.Content)-1]
			want := 1
			if tc.thinking {
				want = 2 // the primary's thinking, then the text
			}
			if len(msg.Content) != want || text.Type != "text" || !strings.HasPrefix(text.Text, "Hello from Hello from backup!") || msg.StopReason != "end_turn" {
				t.Fatalf("message %+v: want the primary's text going on with the backup's", msg)
			}
			var sent struct {
				Messages []struct {
					Role    string          `json:"role"`
					Content json.RawMessage `json:"content"`
				} `json:"messages"`
			}
			if err := json.Unmarshal([]byte(e.mocks["backup"].LastBody()), &sent); err != nil {
				t.Fatal(err)
			}
			m := sent.Messages
			if n := len(m); n < 3 || m[n-2].Role != "assistant" || !strings.Contains(string(m[n-2].Content), "Hello from ") ||
				m[n-1].Role != "user" || !strings.Contains(string(m[n-1].Content), "Continue it from exactly where it stopped") {
				t.Fatalf("the backup got messages %s", e.mocks["backup"].LastBody())
			}
			<-e.done
			if c := e.breaker("claude/anthropic/claude-sonnet-4-5:chat").Counts(); c.Failures != 1 {
				t.Fatalf("primary counts %+v: the broken stream is a failure", c)
			}
		})
	}
}

// A Messages stream that broke in a tool's call is not continued: a
// call's input cannot be gone on with; the client gets the error event.
func TestBrokenToolCallIsNotContinued(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_PRIMARY}", api_key: sk-ant-primary-key}
  - model_name: backup
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_BACKUP}", api_key: sk-backup-secret-key}
router_settings:
  fallbacks: [{claude: [backup]}]
`, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: 4}) // message_start, ping, the tool_use block's start, half its input
	client := e.anthropicClient()
	stream := client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{Model: "claude", MaxTokens: 256,
		Tools:      []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "w", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{}}}}},
		ToolChoice: anthropic.ToolChoiceUnionParam{OfAny: &anthropic.ToolChoiceAnyParam{}},
		Messages:   []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("weather?"))}})
	defer stream.Close()
	for stream.Next() {
	}
	if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "the upstream stream broke") {
		t.Fatalf("err %v: want the error event", err)
	}
	<-e.done
	if n := e.mocks["backup"].Stats().Messages; n != 0 {
		t.Fatalf("the backup got %d calls", n)
	}
}

// A chat stream that ends with the upstream's error chunk (overloaded)
// goes on elsewhere as a cut one does.
func TestOverloadedChatStreamContinues(t *testing.T) {
	e := newEnv(t, twoGroups, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{OverloadAfter: 3}) // the role, "Hello ", "from "
	acc, chunks, err := drain(e.client.Chat.Completions.NewStreaming(context.Background(), streamParams()))
	if err != nil || !strings.HasPrefix(acc.Choices[0].Message.Content, "Hello from Hello from backup!") {
		t.Fatalf("after %d chunks, err %v, content %q", chunks, err, acc.Choices[0].Message.Content)
	}
	<-e.done
	if c := e.breaker(primaryChat).Counts(); c.Failures != 1 {
		t.Fatalf("primary counts %+v: the overload is a failure", c)
	}
}
