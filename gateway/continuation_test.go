package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/breakerd/breakerd/mockllm"
	"github.com/breakerd/breakerd/provider"
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

// A Responses stream that keeps no state at OpenAI (store: false, as
// Codex sends) and breaks after its first text goes on at the route's next
// deployment, an OpenAI one or a Claude (translated): the continuation's
// text goes on in the client's open message (its item id, output index
// and text part), its created events and reasoning left out, every event
// numbered after the client's, and its last event carries the client's
// response id with the whole text, so the official SDK's accumulator sees
// one response; the next deployment got the text as an assistant message
// and the instruction to continue.
func TestBrokenResponsesStreamContinues(t *testing.T) {
	for _, tc := range []struct {
		name, backup string
		reasoning    bool // the client asks for encrypted reasoning, which the mock then sends first
		overloaded   bool // the Responses API's error event, not a cut connection
	}{
		{"at another OpenAI deployment", "openai/gpt-4o-mini", false, false},
		{"at a Claude, translated", "anthropic/claude-sonnet-4-5", false, false},
		{"after reasoning, at a deployment that reasons", "openai/gpt-4o-mini", true, false},
		{"after the error event", "openai/gpt-4o-mini", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := "${MOCK_BACKUP}"
			if strings.HasPrefix(tc.backup, "openai/") {
				base += "/v1"
			}
			e := newEnv(t, `
model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_PRIMARY}/v1", api_key: sk-primary-secret-key}
  - model_name: backup
    litellm_params: {model: `+tc.backup+`, api_base: "`+base+`", api_key: sk-backup-secret-key}
router_settings:
  fallbacks: [{gpt: [backup]}]
`, "primary", "backup")
			p := responses.ResponseNewParams{Model: "gpt", Store: openai.Bool(false),
				Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("tell me")}}
			cut := 6 // created, in_progress, the message's item and part, "Hello ", "from "
			if tc.reasoning {
				p.Include = []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent}
				cut += 2 // the reasoning item's added and done
			}
			if tc.overloaded {
				e.mocks["primary"].SetFaults(mockllm.Faults{OverloadAfter: cut})
			} else {
				e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: cut})
			}
			resp, err := drainResponses(e.client.Responses.NewStreaming(context.Background(), p))
			if err != nil {
				t.Fatal(err)
			}
			want := 1
			if tc.reasoning {
				want = 2 // the primary's reasoning, then the message
			}
			msg := resp.Output[len(resp.Output)-1]
			if len(resp.Output) != want || msg.Type != "message" || !strings.HasPrefix(resp.OutputText(), "Hello from Hello from backup!") ||
				!strings.HasPrefix(resp.ID, "resp_") || resp.Status != "completed" {
				t.Fatalf("response %s: want the primary's text going on with the backup's", resp.RawJSON())
			}
			if tc.reasoning && resp.Output[0].Type != "reasoning" {
				t.Fatalf("output %s: want the primary's reasoning first", resp.RawJSON())
			}
			sent := e.mocks["backup"].LastBody()
			if strings.HasPrefix(tc.backup, "openai/") {
				var body struct {
					Input []struct{ Role, Content string }
				}
				if err := json.Unmarshal([]byte(sent), &body); err != nil {
					t.Fatal(err)
				}
				in := body.Input
				if len(in) != 3 || in[0].Content != "tell me" || in[1].Role != "assistant" || in[1].Content != "Hello from " ||
					in[2].Role != "user" || !strings.Contains(in[2].Content, "Continue it from exactly where it stopped") {
					t.Fatalf("the backup got %s", sent)
				}
			} else if !strings.Contains(sent, `"role":"assistant"`) || !strings.Contains(sent, "Hello from ") || !strings.Contains(sent, "Continue it from exactly") {
				t.Fatalf("the backup got %s", sent)
			}
			<-e.done
			if c := e.breaker("gpt/openai/gpt-4o-mini:chat").Counts(); c.Failures != 1 {
				t.Fatalf("primary counts %+v: the broken stream is a failure", c)
			}
			if tc.overloaded && !strings.Contains(e.logs.String(), `"cause":"upstream stream error: Our servers are currently overloaded`) {
				t.Fatalf("logs lack the error event's message as the cause:\n%s", e.logs.String())
			}
		})
	}
}

// A Responses stream that breaks inside a reasoning item, its summary (or
// an open-weight model's reasoning as it is, gpt-oss's reasoning_text)
// half streamed, goes on with the client's reasoning item closed: its
// part's and its item's done events, the text it has, so that the SDK's
// accumulator and Codex (which keeps the items done) hold it. Its
// encrypted content is breakerd's, which no model reads: sent back, it is
// left out at OpenAI, which would refuse it (not stored: 404; not its
// own: 400), and its summary goes as reasoning to DeepSeek.
func TestBrokenResponsesReasoningIsClosed(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		summary     bool
	}{
		{"a summary", "o4-mini", true},
		{"reasoning as it is", "gpt-oss-120b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, `
model_list:
  - model_name: gpt
    litellm_params: {model: openai/`+tc.model+`, api_base: "${MOCK_PRIMARY}/v1", api_key: sk-primary-secret-key}
  - model_name: backup
    litellm_params: {model: openai/`+tc.model+`, api_base: "${MOCK_BACKUP}/v1", api_key: sk-backup-secret-key}
  - model_name: ds
    litellm_params: {model: deepseek/deepseek-reasoner, api_base: "${MOCK_DEEPSEEK}/v1", api_key: sk-deepseek-secret}
router_settings:
  fallbacks: [{gpt: [backup]}]
`, "primary", "backup", "deepseek")
			ctx := context.Background()
			ask := responses.ResponseNewParams{Model: "gpt", Store: openai.Bool(false),
				Include: []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent},
				Input:   responses.ResponseNewParamsInputUnion{OfString: openai.String("tell me")}}
			if tc.summary {
				ask.Reasoning = shared.ReasoningParam{Summary: shared.ReasoningSummaryAuto}
			}
			// created, in_progress, the reasoning item, its part, two words
			e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: 6})
			resp, err := drainResponses(e.client.Responses.NewStreaming(ctx, ask))
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Output) != 2 || resp.Output[0].Type != "reasoning" || resp.Output[0].EncryptedContent != provider.ReasoningSignature ||
				resp.Output[1].Type != "message" || !strings.HasPrefix(resp.OutputText(), "Hello from backup!") {
				t.Fatalf("response %s: want the primary's reasoning as far as it went, then the backup's answer", resp.RawJSON())
			}
			r := resp.Output[0]
			if tc.summary && (len(r.Summary) != 1 || r.Summary[0].Text != "Thinking about ") ||
				!tc.summary && (len(r.Content) != 1 || r.Content[0].Text != "The user " || r.Content[0].Type != "reasoning_text") {
				t.Fatalf("reasoning %s: want the text so far", r.RawJSON())
			}

			e.mocks["primary"].SetFaults(mockllm.Faults{})
			rp := r.AsReasoning().ToParam()
			next := ask
			next.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
				responses.ResponseInputItemParamOfMessage("tell me", responses.EasyInputMessageRoleUser),
				{OfReasoning: &rp},
				responses.ResponseInputItemParamOfOutputMessage(
					[]responses.ResponseOutputMessageContentUnionParam{{OfOutputText: &responses.ResponseOutputTextParam{Text: resp.OutputText()}}},
					resp.Output[1].ID, responses.ResponseOutputMessageStatusCompleted),
				responses.ResponseInputItemParamOfMessage("and then?", responses.EasyInputMessageRoleUser)}}
			if _, err := e.client.Responses.New(ctx, next); err != nil || strings.Contains(e.mocks["primary"].LastBody(), r.ID) {
				t.Fatalf("the next turn at OpenAI: %v; sent %s", err, e.mocks["primary"].LastBody())
			}
			if tc.summary {
				next.Model = "ds"
				if _, err := e.client.Responses.New(ctx, next); err != nil || !strings.Contains(e.mocks["deepseek"].LastBody(), `"reasoning_content":"Thinking about "`) {
					t.Fatalf("the next turn at DeepSeek: %v; sent %s", err, e.mocks["deepseek"].LastBody())
				}
			}
		})
	}
}

// A Responses stream that OpenAI stores (store unset or true: its id
// names the deployment that stores it whole) is not continued: the client
// gets the Responses API's error event.
func TestBrokenStoredResponsesStreamIsNotContinued(t *testing.T) {
	for _, store := range []string{``, `"store":true,`} {
		e := newEnv(t, twoGroups, "primary", "backup")
		e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: 6})
		resp, err := e.http.Post(e.url+"/v1/responses", "application/json",
			strings.NewReader(`{"model":"gpt-4o-mini",`+store+`"stream":true,"input":"tell me"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "event: error") || !strings.Contains(string(b), "the upstream stream broke") {
			t.Fatalf("store %q: stream %s, want its error event", store, b)
		}
		<-e.done
		if n := e.mocks["backup"].Stats().Responses; n != 0 {
			t.Fatalf("store %q: the backup got %d calls", store, n)
		}
	}
}

// drainResponses reads a Responses stream to its end, checking each event
// as the official SDKs' accumulators do (each numbered after the last;
// output items added in order and addressed by index and id; text parts
// in order; the done events' text the deltas'; one response id) and
// feeding openai-go's ResponseAccumulator, and returns the response its
// last event carries.
// responsesBothWays makes a Responses request whole and streamed (read
// through drainResponses): each answer, by how it came.
func (e *env) responsesBothWays(ctx context.Context, p responses.ResponseNewParams) map[string]*responses.Response {
	e.t.Helper()
	whole, err := e.client.Responses.New(ctx, p)
	if err != nil {
		e.t.Fatal(err)
	}
	streamed, err := drainResponses(e.client.Responses.NewStreaming(ctx, p))
	if err != nil {
		e.t.Fatal(err)
	}
	return map[string]*responses.Response{"whole": whole, "streamed": streamed}
}

func drainResponses(stream *ssestream.Stream[responses.ResponseStreamEventUnion]) (*responses.Response, error) {
	defer stream.Close()
	var acc responses.ResponseAccumulator
	type item struct {
		id, typ string
		texts   []string
		done    bool
	}
	var items []*item
	var id string
	seq := int64(-1)
	var final *responses.Response
	for stream.Next() {
		ev := stream.Current()
		if ev.SequenceNumber != seq+1 {
			return nil, fmt.Errorf("event %s numbered %d after %d", ev.Type, ev.SequenceNumber, seq)
		}
		seq = ev.SequenceNumber
		var wsEvent responses.ResponsesServerEventUnion
		if err := json.Unmarshal([]byte(ev.RawJSON()), &wsEvent); err != nil {
			return nil, err
		}
		if err := acc.AddEvent(wsEvent); err != nil {
			return nil, fmt.Errorf("the SDK's accumulator: %w at %s", err, ev.RawJSON())
		}
		at := func() (*item, error) {
			if ev.OutputIndex < 0 || int(ev.OutputIndex) >= len(items) {
				return nil, fmt.Errorf("%s at output %d of %d", ev.Type, ev.OutputIndex, len(items))
			}
			it := items[ev.OutputIndex]
			if ev.ItemID != "" && ev.ItemID != it.id {
				return nil, fmt.Errorf("%s names item %s at output %d, which is %s", ev.Type, ev.ItemID, ev.OutputIndex, it.id)
			}
			return it, nil
		}
		switch ev.Type {
		case "response.created":
			if id != "" {
				return nil, fmt.Errorf("a second response.created")
			}
			id = ev.Response.ID
		case "response.output_item.added":
			if int(ev.OutputIndex) != len(items) {
				return nil, fmt.Errorf("item added at %d after %d items", ev.OutputIndex, len(items))
			}
			items = append(items, &item{id: ev.Item.ID, typ: ev.Item.Type})
		case "response.content_part.added":
			it, err := at()
			if err != nil {
				return nil, err
			}
			if int(ev.ContentIndex) != len(it.texts) {
				return nil, fmt.Errorf("part added at %d after %d parts", ev.ContentIndex, len(it.texts))
			}
			it.texts = append(it.texts, "")
		case "response.output_text.delta", "response.output_text.done":
			it, err := at()
			if err != nil {
				return nil, err
			}
			if int(ev.ContentIndex) >= len(it.texts) {
				return nil, fmt.Errorf("%s in part %d of %d", ev.Type, ev.ContentIndex, len(it.texts))
			}
			if ev.Type == "response.output_text.delta" {
				it.texts[ev.ContentIndex] += ev.Delta
			} else if ev.Text != it.texts[ev.ContentIndex] {
				return nil, fmt.Errorf("output_text.done %q after deltas %q", ev.Text, it.texts[ev.ContentIndex])
			}
		case "response.output_item.done":
			it, err := at()
			if err != nil {
				return nil, err
			}
			if ev.Item.ID != it.id || ev.Item.Type != it.typ {
				return nil, fmt.Errorf("item %s %s done at %d, added as %s %s", ev.Item.Type, ev.Item.ID, ev.OutputIndex, it.typ, it.id)
			}
			if it.typ == "message" && (len(ev.Item.Content) != len(it.texts) || len(it.texts) > 0 && ev.Item.Content[0].Text != it.texts[0]) {
				return nil, fmt.Errorf("message done as %s after deltas %q", ev.Item.RawJSON(), it.texts)
			}
			it.done = true
		case "response.completed", "response.incomplete", "response.failed":
			r := ev.Response
			if r.ID != id {
				return nil, fmt.Errorf("the last event's response %s, the first's %s", r.ID, id)
			}
			for _, out := range r.Output {
				if !slices.ContainsFunc(items, func(it *item) bool { return it.id == out.ID }) {
					return nil, fmt.Errorf("the response's output item %s was never added", out.ID)
				}
			}
			for i, it := range items {
				if !it.done || i >= len(r.Output) || r.Output[i].ID != it.id {
					return nil, fmt.Errorf("item %s added at %d (done: %t), not there in the response's output %s", it.id, i, it.done, r.RawJSON())
				}
			}
			final = &r
		case "error":
			return nil, fmt.Errorf("error event: %s", ev.RawJSON())
		}
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	if final == nil {
		return nil, fmt.Errorf("the stream ended without its last event")
	}
	if r, err := acc.ReconstructedResponse(); err != nil || r.OutputText() != final.OutputText() {
		return nil, fmt.Errorf("the SDK's accumulator: %v, text %q", err, r.OutputText())
	}
	return final, nil
}

// A Responses client's custom tools (Codex's apply_patch) reach a Claude
// deployment as functions of one string, and its calls come back as
// custom tool calls, whole and streamed (checked event by event and by
// openai-go's accumulator); the next turn, with the call and its output,
// goes there too: a Codex session falls back to Claude.
func TestCustomToolsAtATranslatingDeployment(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	p := responses.ResponseNewParams{Model: "claude", Store: openai.Bool(false),
		Input:      responses.ResponseNewParamsInputUnion{OfString: openai.String("fix the bug")},
		Tools:      []responses.ToolUnionParam{{OfCustom: &responses.CustomToolParam{Name: "apply_patch", Description: openai.String("Edit files.")}}},
		ToolChoice: responses.ResponseNewParamsToolChoiceUnion{OfCustomTool: &responses.ToolChoiceCustomParam{Name: "apply_patch"}}}
	native := p
	native.Model = "gpt-4o-mini" // OpenAI's own custom tool call, as the mock plays it
	if r, err := drainResponses(e.client.Responses.NewStreaming(context.Background(), native)); err != nil || r.Output[0].Type != "custom_tool_call" {
		t.Fatalf("at OpenAI: %v", err)
	}
	whole, err := e.client.Responses.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := drainResponses(e.client.Responses.NewStreaming(context.Background(), p))
	if err != nil {
		t.Fatal(err)
	}
	for how, r := range map[string]*responses.Response{"whole": whole, "streamed": streamed} {
		if len(r.Output) != 1 || r.Output[0].Type != "custom_tool_call" || r.Output[0].Name != "apply_patch" || r.Output[0].Input == "" || r.Output[0].CallID == "" {
			t.Fatalf("%s: output %s", how, r.RawJSON())
		}
	}
	call := whole.Output[0]
	p.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfMessage("fix the bug", responses.EasyInputMessageRoleUser),
		responses.ResponseInputItemParamOfCustomToolCall(call.CallID, call.Input, call.Name),
		responses.ResponseInputItemParamOfCustomToolCallOutput(call.CallID, "Done"),
	}}
	p.ToolChoice = responses.ResponseNewParamsToolChoiceUnion{}
	if _, err := e.client.Responses.New(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	sent := e.mocks["anthropic"].LastBody()
	if !strings.Contains(sent, `"type":"tool_use"`) || !strings.Contains(sent, `"type":"tool_result"`) || !strings.Contains(sent, `"name":"apply_patch"`) {
		t.Fatalf("the Claude deployment got %s", sent)
	}
	if e.mocks["openai"].Stats().Responses != 1 {
		t.Fatalf("the OpenAI deployment got %d calls, want the one made to it", e.mocks["openai"].Stats().Responses)
	}
}

// A Messages stream that breaks inside Claude's thinking, before its
// signature, goes on elsewhere with the client's thinking block closed,
// signed as breakerd's: the SDK's accumulator sees it end, and Claude,
// which would refuse a block it cannot check, is not sent it back.
func TestBrokenThinkingIsClosed(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_PRIMARY}", api_key: sk-ant-primary-key}
  - model_name: backup
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_BACKUP}", api_key: sk-backup-secret-key}
router_settings:
  fallbacks: [{claude: [backup]}]
`, "primary", "backup")
	params := anthropic.MessageNewParams{Model: "claude", MaxTokens: 4096, Thinking: anthropic.ThinkingConfigParamOfEnabled(1024),
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("tell me"))}}
	e.mocks["primary"].SetFaults(mockllm.Faults{CutAfter: 4}) // message_start, ping, the thinking's start and text
	client := e.anthropicClient()
	msg, err := drainMessages(client.Messages.NewStreaming(context.Background(), params))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 2 || msg.Content[0].Type != "thinking" || msg.Content[0].Signature != provider.ReasoningSignature || msg.Content[1].Type != "text" {
		t.Fatalf("message %s", msg.RawJSON())
	}
	e.mocks["primary"].SetFaults(mockllm.Faults{})
	next := params
	next.Messages = append(next.Messages, msg.ToParam(), anthropic.NewUserMessage(anthropic.NewTextBlock("and then?")))
	if _, err := client.Messages.New(context.Background(), next); err != nil || strings.Contains(e.mocks["primary"].LastBody(), provider.ReasoningSignature) {
		t.Fatalf("the next turn at Claude: %v; sent %s", err, e.mocks["primary"].LastBody())
	}
}
