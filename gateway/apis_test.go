package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/anthropics/anthropic-sdk-go/packages/ssestream"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/breakerd/breakerd/mockllm"
)

// bothWays falls back from OpenAI to Anthropic and from Anthropic to OpenAI.
const bothWays = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5-sonnet-20241022, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
router_settings:
  routing_strategy: ordered
  retry_backoff: 1ms
  fallbacks: [{gpt-4o-mini: [claude]}, {claude: [gpt-4o-mini]}]
`

// drainMessages reads a Messages stream to its end into the message the
// official SDK's accumulator makes of it, and closes it.
// messagesBothWays makes a Messages request whole and streamed (read
// through drainMessages, the SDK's accumulator): each answer, by how it
// came.
func (e *env) messagesBothWays(ctx context.Context, p anthropic.MessageNewParams) map[string]anthropic.Message {
	e.t.Helper()
	ac := e.anthropicClient()
	whole, err := ac.Messages.New(ctx, p)
	if err != nil {
		e.t.Fatal(err)
	}
	streamed, err := drainMessages(ac.Messages.NewStreaming(ctx, p))
	if err != nil {
		e.t.Fatal(err)
	}
	return map[string]anthropic.Message{"whole": *whole, "streamed": streamed}
}

func drainMessages(stream *ssestream.Stream[anthropic.MessageStreamEventUnion]) (anthropic.Message, error) {
	defer stream.Close()
	var msg anthropic.Message
	for stream.Next() {
		if err := msg.Accumulate(stream.Current()); err != nil {
			return msg, err
		}
	}
	return msg, stream.Err()
}

func (e *env) anthropicClient() anthropic.Client {
	return anthropic.NewClient(aoption.WithBaseURL(e.url), aoption.WithAPIKey("sk-client"),
		aoption.WithMaxRetries(0), aoption.WithHTTPClient(e.http))
}

func responseParams(model, input string, tools bool) responses.ResponseNewParams {
	p := responses.ResponseNewParams{Model: model, Instructions: openai.String("be brief"),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(input)}}
	if tools {
		p.Tools = []responses.ToolUnionParam{responses.ToolParamOfFunction("lookup",
			map[string]any{"type": "object", "properties": map[string]any{"query": map[string]any{"type": "string"}}}, false)}
		p.ToolChoice = responses.ResponseNewParamsToolChoiceUnion{OfToolChoiceMode: openai.Opt(responses.ToolChoiceOptionsRequired)}
	}
	return p
}

// The Responses API through the official Go SDK: passed through to the
// OpenAI primary, and translated onto the Anthropic fallback when the
// primary is down, non-streaming and streaming, with tool calls.
func TestResponsesAPI(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	ctx := context.Background()
	var hr *http.Response
	r, err := e.client.Responses.New(ctx, responseParams("gpt-4o-mini", "hi there", false), option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.OutputText(), "Hello from openai! You said: hi there") || hr.Header.Get("X-Breakerd-Provider") != "openai" ||
		e.mocks["openai"].Stats().Responses != 1 {
		t.Fatalf("passthrough: %q %v %+v", r.OutputText(), hr.Header, e.mocks["openai"].Stats())
	}
	e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	r, err = e.client.Responses.New(ctx, responseParams("gpt-4o-mini", "hi there", false), option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.OutputText(), "Hello from anthropic! You said: hi there") || hr.Header.Get("X-Breakerd-Provider") != "anthropic" ||
		r.Status != "completed" || r.Usage.TotalTokens == 0 {
		t.Fatalf("translated: %q status %s usage %+v headers %v", r.OutputText(), r.Status, r.Usage, hr.Header)
	}
	r, err = e.client.Responses.New(ctx, responseParams("gpt-4o-mini", "look it up", true))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Output) != 1 || r.Output[0].Type != "function_call" || r.Output[0].Name != "lookup" || !json.Valid([]byte(r.Output[0].Arguments.OfString)) {
		t.Fatalf("tool call: %+v", r.Output)
	}
	for _, tools := range []bool{false, true} {
		stream := e.client.Responses.NewStreaming(ctx, responseParams("gpt-4o-mini", "stream it", tools))
		var deltas strings.Builder
		var types []string
		var done responses.Response
		for stream.Next() {
			ev := stream.Current()
			types = append(types, ev.Type)
			switch ev.Type {
			case "response.output_text.delta":
				deltas.WriteString(ev.Delta)
			case "response.completed":
				done = ev.Response
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		seq := strings.Join(types, ",")
		if !strings.HasPrefix(seq, "response.created,response.in_progress,response.output_item.added") || !strings.HasSuffix(seq, "response.completed") {
			t.Fatalf("events %s", seq)
		}
		if tools {
			if !strings.Contains(seq, "response.function_call_arguments.delta") || len(done.Output) != 1 || done.Output[0].Type != "function_call" {
				t.Fatalf("streamed tool call: %s %+v", seq, done.Output)
			}
			continue
		}
		if !strings.Contains(deltas.String(), "Hello from anthropic! You said: stream it") || done.OutputText() != deltas.String() {
			t.Fatalf("streamed text %q, completed %q", deltas.String(), done.OutputText())
		}
	}
}

// Stateful Responses features need the Responses API itself: a
// deployment that would translate, and so ignore them, never takes the
// request; a native fallback does.
func TestStatefulResponsesNeverFallBackToATranslation(t *testing.T) {
	p := responseParams("claude", "hi", false)
	p.PreviousResponseID = openai.String("resp_123")
	t.Run("a native fallback takes it", func(t *testing.T) {
		e := newEnv(t, bothWays, "openai", "anthropic")
		first, err := e.client.Responses.New(context.Background(), responseParams("gpt-4o-mini", "hi", false))
		if err != nil {
			t.Fatal(err)
		}
		p := p
		p.PreviousResponseID = openai.String(first.ID)
		var hr *http.Response
		if _, err := e.client.Responses.New(context.Background(), p, option.WithResponseInto(&hr)); err != nil || hr.Header.Get("X-Breakerd-Provider") != "openai" {
			t.Fatalf("%v %v", err, hr)
		}
		e.mocks["openai"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
		_, err = e.client.Responses.New(context.Background(), p)
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
			t.Fatalf("with the native fallback down: %v", err)
		}
		if n := e.mocks["anthropic"].Stats().Requests; n != 0 {
			t.Fatalf("the translating deployment got %d calls", n)
		}
	})
	t.Run("no native deployment on the route", func(t *testing.T) {
		e := newEnv(t, strings.Replace(bothWays, ", {claude: [gpt-4o-mini]}", "", 1), "openai", "anthropic")
		_, err := e.client.Responses.New(context.Background(), p)
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "previous_response_id") {
			t.Fatalf("error %v", err)
		}
		if n := e.mocks["anthropic"].Stats().Requests; n != 0 {
			t.Fatalf("the translating deployment got %d calls", n)
		}
	})
}

// Anthropic's Messages API through the official Go SDK: passed through to
// the Anthropic primary, and translated onto the OpenAI fallback when it
// is down, non-streaming and streaming, with tool use.
func TestMessagesAPI(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	client := e.anthropicClient()
	ctx := context.Background()
	params := func(text string, tools bool) anthropic.MessageNewParams {
		p := anthropic.MessageNewParams{Model: "claude", MaxTokens: 256,
			System:   []anthropic.TextBlockParam{{Text: "be brief"}},
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))}}
		if tools {
			p.Tools = []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "lookup",
				InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"query": map[string]any{"type": "string"}}}}}}
			p.ToolChoice = anthropic.ToolChoiceParamOfTool("lookup")
		}
		return p
	}
	text := func(m *anthropic.Message) string {
		var b strings.Builder
		for _, c := range m.Content {
			b.WriteString(c.Text)
		}
		return b.String()
	}
	m, err := client.Messages.New(ctx, params("hi there", false))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text(m), "Hello from anthropic! You said: hi there") || e.mocks["anthropic"].Stats().Messages != 1 {
		t.Fatalf("passthrough: %+v", m)
	}
	e.mocks["anthropic"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	m, err = client.Messages.New(ctx, params("hi there", false))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text(m), "Hello from openai! You said: hi there") || m.StopReason != "end_turn" || m.Usage.OutputTokens == 0 ||
		e.mocks["openai"].Stats().Chat != 1 {
		t.Fatalf("translated: %+v", m)
	}
	m, err = client.Messages.New(ctx, params("look it up", true))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Content) != 1 || m.Content[0].Type != "tool_use" || m.Content[0].Name != "lookup" || m.StopReason != "tool_use" {
		t.Fatalf("tool use: %+v", m)
	}
	// The tool result goes back, through the translation.
	follow := params("look it up", true)
	follow.ToolChoice = anthropic.ToolChoiceUnionParam{}
	follow.Messages = append(follow.Messages, m.ToParam(),
		anthropic.NewUserMessage(anthropic.NewToolResultBlock(m.Content[0].ID, "found it", false)))
	if _, err := client.Messages.New(ctx, follow); err != nil {
		t.Fatal(err)
	}
	for _, tools := range []bool{false, true} {
		stream := client.Messages.NewStreaming(ctx, params("stream it", tools))
		var acc anthropic.Message
		var types []string
		for stream.Next() {
			ev := stream.Current()
			types = append(types, ev.Type)
			if err := acc.Accumulate(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		seq := strings.Join(types, ",")
		if !strings.HasPrefix(seq, "message_start,content_block_start,content_block_delta") ||
			!strings.HasSuffix(seq, "content_block_stop,message_delta,message_stop") {
			t.Fatalf("events %s", seq)
		}
		if tools {
			if len(acc.Content) != 1 || acc.Content[0].Type != "tool_use" || !json.Valid(acc.Content[0].Input) {
				t.Fatalf("streamed tool use %+v", acc.Content)
			}
			continue
		}
		if !strings.Contains(text(&acc), "Hello from openai! You said: stream it") || acc.StopReason != "end_turn" {
			t.Fatalf("streamed %+v", acc)
		}
	}
}

// Bad input on /v1/messages gets Anthropic's error shape with the right
// status, never OpenAI's, and never a 500.
func TestMessagesErrorsInAnthropicsShape(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	for _, tc := range []struct {
		name, body string
		status     int
		typ, msg   string
	}{
		{"malformed JSON", `{"model":`, 400, "invalid_request_error", "not valid JSON"},
		{"no max_tokens", `{"model":"claude","messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", "max_tokens"},
		{"an unknown model", `{"model":"nope","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, 404, "not_found_error", "nope"},
		{"a bad role, translated", `{"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"robot","content":"x"}]}`,
			400, "invalid_request_error", "must be user or assistant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := e.post("/v1/messages", tc.body)
			errObj, _ := body["error"].(map[string]any)
			if status != tc.status || body["type"] != "error" || errObj["type"] != tc.typ || !strings.Contains(errObj["message"].(string), tc.msg) {
				t.Fatalf("status %d body %v", status, body)
			}
		})
	}
	// The official SDK reads it as its own error.
	client := e.anthropicClient()
	_, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "nope", MaxTokens: 5,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("x"))}})
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("SDK error %v", err)
	}
}

// Legacy completions pass through to OpenAI-dialect deployments; a group
// with none gets a 400.
func TestLegacyCompletions(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	out, err := e.client.Completions.New(context.Background(), openai.CompletionNewParams{Model: "gpt-4o-mini",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("once upon")}})
	if err != nil || !strings.Contains(out.Choices[0].Text, "You said: once upon") || e.mocks["openai"].Stats().Completions != 1 {
		t.Fatalf("%v %+v", err, out)
	}
	stream := e.client.Completions.NewStreaming(context.Background(), openai.CompletionNewParams{Model: "gpt-4o-mini",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("stream")}})
	var text strings.Builder
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Text)
		}
	}
	if stream.Err() != nil || !strings.Contains(text.String(), "You said: stream") {
		t.Fatalf("%v %q", stream.Err(), text.String())
	}
	// claude falls back to gpt-4o-mini, which serves completions...
	if status, h, body := e.post("/v1/completions", `{"model":"claude","prompt":"x"}`); status != 200 || h.Get("X-Breakerd-Provider") != "openai" {
		t.Fatalf("status %d %v", status, body)
	}
	// ...and without that fallback nothing on its route does.
	e2 := newEnv(t, strings.Replace(bothWays, ", {claude: [gpt-4o-mini]}", "", 1), "openai", "anthropic")
	status, _, body := e2.post("/v1/completions", `{"model":"claude","prompt":"x"}`)
	if status != 400 || body["error"].(map[string]any)["code"] != "model_not_supported" {
		t.Fatalf("status %d %v", status, body)
	}
}

// count_tokens goes to an Anthropic deployment on the route; a route with
// none gets an estimate, marked as one.
func TestCountTokens(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	client := e.anthropicClient()
	n, err := client.Messages.CountTokens(context.Background(), anthropic.MessageCountTokensParams{Model: "claude",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("one two three"))}})
	if err != nil || n.InputTokens != 4 {
		t.Fatalf("%v %+v", err, n)
	}
	e2 := newEnv(t, strings.Replace(bothWays, "fallbacks: [{gpt-4o-mini: [claude]}, {claude: [gpt-4o-mini]}]", "fallbacks: []", 1), "openai", "anthropic")
	status, h, body := e2.post("/v1/messages/count_tokens", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"one two three"}]}`)
	if status != 200 || h.Get("X-Breakerd-Estimate") != "true" || body["input_tokens"].(float64) < 1 {
		t.Fatalf("status %d headers %v body %v", status, h, body)
	}
}

// The Responses API's input_tokens count goes to an OpenAI deployment on
// the route, through the official SDK; a route with none gets an
// estimate, in the API's shape, marked as one.
func TestResponsesInputTokens(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	count := func(e *env, model string) (*responses.InputTokenCountResponse, *http.Response, error) {
		var hr *http.Response
		n, err := e.client.Responses.InputTokens.Count(context.Background(), responses.InputTokenCountParams{Model: openai.String(model),
			Instructions: openai.String("be brief"), Input: responses.InputTokenCountParamsInputUnion{OfString: openai.String("one two three")}},
			option.WithResponseInto(&hr))
		return n, hr, err
	}
	n, hr, err := count(e, "claude") // its route's OpenAI fallback counts
	if err != nil || n.InputTokens != 6 /* the mock's count: 5 words, and 1 */ || hr.Header.Get("X-Breakerd-Deployment") != "gpt-4o-mini/openai/gpt-4o-mini" || e.mocks["anthropic"].Stats().Requests != 0 {
		t.Fatalf("%v %+v %v", err, n, hr.Header)
	}
	e2 := newEnv(t, strings.Replace(bothWays, "fallbacks: [{gpt-4o-mini: [claude]}, {claude: [gpt-4o-mini]}]", "fallbacks: []", 1), "openai", "anthropic")
	n, hr, err = count(e2, "claude")
	if err != nil || hr.Header.Get("X-Breakerd-Estimate") != "true" || n.InputTokens < 1 || n.Object != "response.input_tokens" {
		t.Fatalf("%v %+v %v", err, n, hr.Header)
	}
}

// With a master key, /v1/messages takes it as x-api-key (Anthropic's SDKs)
// or a bearer token, and answers a wrong or missing key with Anthropic's
// 401, never OpenAI's shape, and never echoing the key sent.
func TestMessagesAuthInAnthropicsShape(t *testing.T) {
	e := newEnv(t, bothWays+"general_settings:\n  master_key: sk-master-key-0123456789\n", "openai", "anthropic")
	body := `{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"x-api-key", map[string]string{"x-api-key": "sk-master-key-0123456789"}, 200},
		{"bearer", map[string]string{"Authorization": "Bearer sk-master-key-0123456789"}, 200},
		{"a wrong x-api-key", map[string]string{"x-api-key": "sk-wrong-key-99999"}, 401},
		{"a basic auth header", map[string]string{"Authorization": "Basic c2stbWFzdGVy"}, 401},
		{"no key", nil, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.url+"/v1/messages", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := e.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %v", resp.StatusCode, got)
			}
			if tc.status == 401 {
				errObj, _ := got["error"].(map[string]any)
				if got["type"] != "error" || errObj["type"] != "authentication_error" || strings.Contains(fmt.Sprint(got), "sk-wrong-key") {
					t.Fatalf("body %v", got)
				}
			}
		})
	}
}

// Anthropic's SDKs list and get models in Anthropic's shape, a page at a
// time (their auto-pager follows has_more and last_id); OpenAI's SDKs get
// OpenAI's list, every model at once, from the same gateway.
func TestModelsForAnthropicSDKs(t *testing.T) {
	var yaml strings.Builder
	yaml.WriteString("model_list:\n")
	var want []string
	for i := range 25 {
		name := fmt.Sprintf("m%02d", i)
		want = append(want, name)
		fmt.Fprintf(&yaml, "  - model_name: %s\n    litellm_params: {model: openai/gpt-4o-mini, api_base: \"${MOCK_OPENAI}/v1\", api_key: sk-openai-secret}\n", name)
	}
	e := newEnv(t, yaml.String(), "openai")
	ctx := context.Background()
	ac := e.anthropicClient()

	page, err := ac.Models.List(ctx, anthropic.ModelListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 20 || !page.HasMore || page.FirstID != "m00" || page.LastID != "m19" {
		t.Fatalf("first page: %d models, has_more %v, %s to %s; want 20, true, m00 to m19", len(page.Data), page.HasMore, page.FirstID, page.LastID)
	}
	if m := page.Data[3]; m.ID != "m03" || m.Type != "model" || m.DisplayName != "m03" || !m.CreatedAt.Equal(time.Unix(0, 0)) {
		t.Fatalf("model %+v, want Anthropic's model object for m03", m)
	}
	var all []string
	iter := ac.Models.ListAutoPaging(ctx, anthropic.ModelListParams{Limit: anthropic.Int(7)})
	for iter.Next() {
		all = append(all, iter.Current().ID)
	}
	if iter.Err() != nil || !slices.Equal(all, want) {
		t.Fatalf("auto-paging by 7: %v (%v), want all 25 in config order", all, iter.Err())
	}
	back, err := ac.Models.List(ctx, anthropic.ModelListParams{BeforeID: anthropic.String("m05"), Limit: anthropic.Int(3)})
	if err != nil || len(back.Data) != 3 || back.FirstID != "m02" || back.LastID != "m04" || !back.HasMore {
		t.Fatalf("before m05, 3: %+v (%v); want m02 to m04, more before", back, err)
	}
	if m, err := ac.Models.Get(ctx, "m07", anthropic.ModelGetParams{}); err != nil || m.ID != "m07" || m.Type != "model" {
		t.Fatalf("get m07: %+v, %v", m, err)
	}
	for _, tc := range []struct {
		call       func() error
		status     int
		typ, words string
	}{
		{func() error { _, err := ac.Models.Get(ctx, "nope", anthropic.ModelGetParams{}); return err }, 404, "not_found_error", "`nope` does not exist"},
		{func() error {
			_, err := ac.Models.List(ctx, anthropic.ModelListParams{Limit: anthropic.Int(1001)})
			return err
		}, 400, "invalid_request_error", "limit: must be a whole number from 1 to 1000"},
		{func() error {
			_, err := ac.Models.List(ctx, anthropic.ModelListParams{AfterID: anthropic.String("m99")})
			return err
		}, 400, "invalid_request_error", `after_id: no model \"m99\"`},
	} {
		var ae *anthropic.Error
		if err := tc.call(); !errors.As(err, &ae) || ae.StatusCode != tc.status || !strings.Contains(ae.RawJSON(), `"type":"`+tc.typ+`"`) ||
			!strings.Contains(ae.RawJSON(), tc.words) {
			t.Errorf("error %v, want Anthropic's %d %s saying %q", err, tc.status, tc.typ, tc.words)
		}
	}

	op, err := e.client.Models.List(ctx)
	if err != nil || len(op.Data) != 25 || op.Data[24].ID != "m24" || op.Data[24].Object != "model" {
		t.Fatalf("OpenAI's list: %d models (%v), want all 25 in OpenAI's shape", len(op.Data), err)
	}
}

// What a translation cannot carry (a kind of item, tool or block newer
// than it, a compaction, a hosted tool) passes the translating
// deployment over instead of refusing a request the API itself takes:
// the request goes to a deployment that serves its API, and with none on
// the route it is a 400 that says so.
func TestTranslationPassesOverWhatItCannotCarry(t *testing.T) {
	const hosted = `{"model":"claude","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"look it up"}]},` +
		`{"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"x"}}],` +
		`"tools":[{"type":"web_search"}],"tool_choice":"auto"}`
	const hologram = `{"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":[{"type":"hologram"}]}]}`
	e := newEnv(t, bothWays, "openai", "anthropic")
	status, h, body := e.post("/v1/responses", hosted)
	if status != 200 || h.Get("X-Breakerd-Provider") != "openai" || e.mocks["anthropic"].Stats().Requests != 0 {
		t.Fatalf("a hosted tool's request on claude: %d %v %v", status, h.Get("X-Breakerd-Provider"), body)
	}
	before := e.mocks["openai"].Stats().Requests
	status, h, body = e.post("/v1/messages", hologram)
	if status != 200 || h.Get("X-Breakerd-Provider") != "anthropic" || e.mocks["openai"].Stats().Requests != before {
		t.Fatalf("an unknown block on gpt-4o-mini: %d %v %v", status, h.Get("X-Breakerd-Provider"), body)
	}

	e = newEnv(t, strings.Replace(bothWays, "fallbacks: [{gpt-4o-mini: [claude]}, {claude: [gpt-4o-mini]}]", "fallbacks: []", 1), "openai", "anthropic")
	status, _, body = e.post("/v1/responses", hosted)
	msg, _ := body["error"].(map[string]any)["message"].(string)
	if status != 400 || !strings.Contains(msg, "web_search") || !strings.Contains(msg, "serves the responses API itself") {
		t.Fatalf("with no deployment that serves Responses: %d %v", status, body)
	}
	if n := e.mocks["anthropic"].Stats().Requests; n != 0 {
		t.Fatalf("the translating deployment got %d calls", n)
	}
}

// A Messages parameter only Anthropic honours (the MCP connector's
// mcp_servers, a container) passes a chat deployment over, as a block it
// cannot carry does, drop_params or not. One newer than the translation
// does too, unless the deployment has drop_params (LiteLLM's: go without
// what it does not support), where it is left out and said dropped.
// Those a chat model may go without (top_k, fast mode's speed, context
// management, the server-side fallback) and LiteLLM's own do not.
func TestMessagesParametersATranslationCannotCarry(t *testing.T) {
	strict := strings.Replace(bothWays, "fallbacks: [{gpt-4o-mini: [claude]}, {claude: [gpt-4o-mini]}]", "fallbacks: []", 1)
	dropping := strings.Replace(strict, "api_key: sk-openai-secret}", "api_key: sk-openai-secret, drop_params: true}", 1)
	for _, tc := range []struct {
		name, config, params string
		unfit                string // the 400's message's start, "" for a translated answer
		dropped              string // X-Breakerd-Dropped-Params
	}{
		{"the MCP connector's servers", strict, `"mcp_servers":[{"type":"url","url":"https://mcp.example/sse","name":"x"}]`,
			"mcp_servers needs a deployment that serves the messages API itself", ""},
		{"a container", strict, `"container":"container_011"`, "container needs a deployment that serves the messages API itself", ""},
		{"a container under drop_params", dropping, `"container":"container_011"`, "container needs a deployment that serves the messages API itself", ""},
		{"a parameter newer than the translation", strict, `"hologram":true`,
			`parameter "hologram" is newer than breakerd's translation of the messages API`, ""},
		{"a parameter newer than the translation, under drop_params", dropping, `"hologram":true`, "", "hologram"},
		{"what a chat model goes without", strict, `"top_k":5,"speed":"fast","context_management":{"edits":[{"type":"clear_tool_uses_20250919"}]},"service_tier":"auto"`, "", ""},
		{"LiteLLM's own", strict, `"num_retries":0,"metadata":{"user_id":"u"}`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.config, "openai", "anthropic")
			status, h, body := e.post("/v1/messages", `{"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"hi"}],`+tc.params+`}`)
			if tc.unfit == "" {
				if status != 200 || h.Get("X-Breakerd-Dropped-Params") != tc.dropped || strings.Contains(e.mocks["openai"].LastBody(), "hologram") {
					t.Fatalf("%d %v, dropped %q; sent %s", status, body, h.Get("X-Breakerd-Dropped-Params"), e.mocks["openai"].LastBody())
				}
				return
			}
			errObj, _ := body["error"].(map[string]any)
			if msg, _ := errObj["message"].(string); status != 400 || !strings.HasPrefix(msg, tc.unfit) || e.mocks["openai"].Stats().Requests != 0 {
				t.Fatalf("%d %v", status, body)
			}
		})
	}
}

// A prompt read from the provider's prompt cache or written to it counts
// in the call's input tokens, and apart as cached, whichever API the
// client speaks and whether or not it streams: Claude's input_tokens
// leave the cached prefix out, so a Messages client's call, relayed as
// it is, would otherwise count only the uncached rest.
func TestCachedPromptTokensCount(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	long := strings.Repeat("policy ", 1200) // 1,201 tokens as the mock counts them
	ac := e.anthropicClient()
	messages := func(system string, stream bool) {
		t.Helper()
		params := anthropic.MessageNewParams{Model: "claude", MaxTokens: 64,
			System:   []anthropic.TextBlockParam{{Text: system, CacheControl: anthropic.NewCacheControlEphemeralParam()}},
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello there"))}}
		if !stream {
			if _, err := ac.Messages.New(context.Background(), params); err != nil {
				t.Fatal(err)
			}
			return
		}
		st := ac.Messages.NewStreaming(context.Background(), params)
		for st.Next() {
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
	}
	chat := func(system string, stream bool) {
		t.Helper()
		params := openai.ChatCompletionNewParams{Model: "claude", Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage(system), openai.UserMessage("hello there")}}
		// LiteLLM's cache_control on a chat message, for Claude.
		opt := option.WithJSONSet("messages.0.cache_control", map[string]string{"type": "ephemeral"})
		if !stream {
			if _, err := e.client.Chat.Completions.New(context.Background(), params, opt); err != nil {
				t.Fatal(err)
			}
			return
		}
		st := e.client.Chat.Completions.NewStreaming(context.Background(), params, opt)
		for st.Next() {
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name          string
		call          func(string, bool)
		system        string
		stream        bool
		read, written int
	}{
		{"Messages: written", messages, long, false, 0, 1201},
		{"Messages: read", messages, long, false, 1201, 0},
		{"Messages streamed: read", messages, long, true, 1201, 0},
		{"chat: written", chat, long + "chat", false, 0, 1202},
		{"chat streamed: read", chat, long + "chat", true, 1202, 0},
	} {
		tc.call(tc.system, tc.stream)
		a := <-e.attempts
		u := a.Usage
		if u.InputTokens != 3+tc.read+tc.written || u.CacheReadTokens != tc.read || u.CacheWriteTokens != tc.written {
			t.Errorf("%s: usage %+v, want %d input tokens, %d of them read from the cache and %d written", tc.name, u,
				3+tc.read+tc.written, tc.read, tc.written)
		}
	}
}

// Tokens written to Anthropic's 1-hour cache cost twice the input price
// (5-minute writes, 1.25 times): the usage breakerd reads counts them
// apart, for a Messages client, streamed or not, and a chat client whose
// cache_control asks for an hour, and the cost it says prices them so.
func TestHourCacheWritesCostMore(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	long := strings.Repeat("policy ", 1200) // 1,201 tokens as the mock counts them
	ac := e.anthropicClient()
	for _, tc := range []struct {
		name   string
		ttl    anthropic.CacheControlEphemeralTTL
		chat   bool
		stream bool
		hour   bool
	}{
		{"5 minutes", "", false, false, false},
		{"an hour", anthropic.CacheControlEphemeralTTLTTL1h, false, false, true},
		{"an hour, streamed", anthropic.CacheControlEphemeralTTLTTL1h, false, true, true},
		{"an hour, from a chat client", anthropic.CacheControlEphemeralTTLTTL1h, true, false, true},
		{"an hour, from a chat client, streamed", anthropic.CacheControlEphemeralTTLTTL1h, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			system := long + tc.name // a new prefix: written, not read
			var resp *http.Response
			var err error
			switch {
			case tc.chat:
				params := openai.ChatCompletionNewParams{Model: "claude", Messages: []openai.ChatCompletionMessageParamUnion{
					openai.SystemMessage(system), openai.UserMessage("hello there")}}
				opts := []option.RequestOption{option.WithJSONSet("messages.0.cache_control", map[string]string{"type": "ephemeral", "ttl": string(tc.ttl)}),
					option.WithResponseInto(&resp)}
				if tc.stream {
					st := e.client.Chat.Completions.NewStreaming(context.Background(), params, opts...)
					defer st.Close()
					for st.Next() {
					}
					err = st.Err()
				} else {
					_, err = e.client.Chat.Completions.New(context.Background(), params, opts...)
				}
			default:
				cc := anthropic.NewCacheControlEphemeralParam()
				cc.TTL = tc.ttl
				params := anthropic.MessageNewParams{Model: "claude", MaxTokens: 64,
					System:   []anthropic.TextBlockParam{{Text: system, CacheControl: cc}},
					Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello there"))}}
				if tc.stream {
					st := ac.Messages.NewStreaming(context.Background(), params, aoption.WithResponseInto(&resp))
					defer st.Close()
					for st.Next() {
					}
					err = st.Err()
				} else {
					_, err = ac.Messages.New(context.Background(), params, aoption.WithResponseInto(&resp))
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			u := (<-e.attempts).Usage
			wantHour := 0
			if tc.hour {
				wantHour = u.CacheWriteTokens
			}
			if u.CacheWriteTokens < 1201 || u.CacheWriteHourTokens != wantHour {
				t.Fatalf("usage %+v, want %d of its cache writes for an hour", u, wantHour)
			}
			if tc.stream {
				return // its cost comes in the stream, with include_cost_in_streaming_usage
			}
			write := 3.75 // claude-3-5-sonnet's 5-minute write, $3 its input
			if tc.hour {
				write = 6
			}
			want := (float64(u.InputTokens-u.CacheWriteTokens)*3 + float64(u.CacheWriteTokens)*write + float64(u.OutputTokens)*15) / 1e6
			got, err := strconv.ParseFloat(resp.Header.Get("X-Litellm-Response-Cost"), 64)
			if err != nil || math.Abs(got-want) > 1e-12 {
				t.Fatalf("x-litellm-response-cost %q, want %v", resp.Header.Get("X-Litellm-Response-Cost"), want)
			}
		})
	}
}

// LiteLLM's cache_control_injection_points mark a chat request's system
// prompt for Claude's prompt cache without the client asking: the second
// call with the same system prompt reads it from the cache. A deployment
// without them sends the prompt as it came, and nothing is cached.
func TestCacheControlInjectionPoints(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: cached
    litellm_params:
      model: anthropic/claude-3-5-sonnet-20241022
      api_base: "${MOCK_ANTHROPIC}"
      api_key: sk-ant-secret-key
      cache_control_injection_points: [{location: message, role: system}]
  - model_name: plain
    litellm_params: {model: anthropic/claude-3-5-sonnet-20241022, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
`, "anthropic")
	system := strings.Repeat("policy ", 1200)
	for _, tc := range []struct {
		group         string
		read, written []int64 // the two calls'
	}{
		{"cached", []int64{0, 1202}, []int64{1202, 0}}, // the system prompt and the group's name: 1,202 tokens
		{"plain", []int64{0, 0}, []int64{0, 0}},
	} {
		for i := range 2 {
			got, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: tc.group,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system + tc.group), openai.UserMessage("hi")}})
			if err != nil {
				t.Fatal(err)
			}
			if c := got.Usage.PromptTokensDetails.CachedTokens; c != tc.read[i] {
				t.Errorf("%s call %d: %d cached tokens, want %d", tc.group, i, c, tc.read[i])
			}
			if a := <-e.attempts; int64(a.Usage.CacheWriteTokens) != tc.written[i] {
				t.Errorf("%s call %d: %d tokens written to the cache, want %d", tc.group, i, a.Usage.CacheWriteTokens, tc.written[i])
			}
		}
	}
}

// With include_cost_in_streaming_usage, the Responses API's
// response.completed and Anthropic's message_delta carry the call's cost
// in their usage, whether the deployment speaks the client's API or is
// translated; no other event carries one.
func TestStreamCostInEveryAPI(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_A}/v1", api_key: sk-a-secret}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3-5-sonnet-20241022, api_base: "${MOCK_A}", api_key: sk-ant-secret}
litellm_settings: {include_cost_in_streaming_usage: true}
`, "a")
	ctx := context.Background()
	type costs struct {
		events []string // the events that carried a cost
		cost   float64
	}
	for _, tc := range []struct {
		name, model string
		in, out     float64 // $ per 1M tokens
	}{{"native", "gpt-4o-mini", 0.15, 0.60}, {"translated", "claude", 3, 15}} {
		t.Run("responses "+tc.name, func(t *testing.T) {
			stream := e.client.Responses.NewStreaming(ctx, responseParams(tc.model, "what does it cost", false))
			var got costs
			var usage responses.ResponseUsage
			for stream.Next() {
				ev := stream.Current()
				var raw struct {
					Response struct {
						Usage *struct {
							Cost *float64 `json:"cost"`
						} `json:"usage"`
					} `json:"response"`
				}
				_ = json.Unmarshal([]byte(ev.RawJSON()), &raw)
				if u := raw.Response.Usage; u != nil && u.Cost != nil {
					got.events, got.cost = append(got.events, ev.Type), *u.Cost
					usage = ev.Response.Usage
				}
			}
			want := (float64(usage.InputTokens)*tc.in + float64(usage.OutputTokens)*tc.out) / 1e6
			if err := stream.Err(); err != nil || !slices.Equal(got.events, []string{"response.completed"}) || usage.OutputTokens == 0 ||
				math.Abs(got.cost-want) > 1e-15 {
				t.Fatalf("%v: cost in %v = %v, want %v in response.completed", err, got.events, got.cost, want)
			}
		})
	}
	for _, tc := range []struct {
		name, model string
		in, out     float64
	}{{"native", "claude", 3, 15}, {"translated", "gpt-4o-mini", 0.15, 0.60}} {
		t.Run("messages "+tc.name, func(t *testing.T) {
			client := e.anthropicClient()
			stream := client.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: anthropic.Model(tc.model), MaxTokens: 64,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("what does it cost"))}})
			var got costs
			var msg anthropic.Message
			for stream.Next() {
				ev := stream.Current()
				if err := msg.Accumulate(ev); err != nil {
					t.Fatal(err)
				}
				var raw struct {
					Usage *struct {
						Cost *float64 `json:"cost"`
					} `json:"usage"`
				}
				_ = json.Unmarshal([]byte(ev.RawJSON()), &raw)
				if u := raw.Usage; u != nil && u.Cost != nil {
					got.events, got.cost = append(got.events, ev.Type), *u.Cost
				}
			}
			want := (float64(msg.Usage.InputTokens)*tc.in + float64(msg.Usage.OutputTokens)*tc.out) / 1e6
			if err := stream.Err(); err != nil || !slices.Equal(got.events, []string{"message_delta"}) || msg.Usage.OutputTokens == 0 ||
				math.Abs(got.cost-want) > 1e-15 {
				t.Fatalf("%v: cost in %v = %v, want %v in message_delta", err, got.events, got.cost, want)
			}
		})
	}
}

// A Responses parameter newer than the translation passes a translating
// deployment over, as a stateful one does: a native fallback serves it,
// and with none on the route the client gets a 400 naming it; a
// translating deployment with drop_params goes without it.
func TestResponsesParameterNewerThanTheTranslation(t *testing.T) {
	const req = `{"model":"claude","input":"hi","reasoning_budget_v9":{"x":1}}`
	e := newEnv(t, bothWays, "openai", "anthropic")
	status, h, body := e.post("/v1/responses", req)
	if status != 200 || h.Get("X-Breakerd-Provider") != "openai" || e.mocks["anthropic"].Stats().Requests != 0 {
		t.Fatalf("status %d, headers %v, body %v", status, h, body)
	}
	alone := strings.Replace(bothWays, ", {claude: [gpt-4o-mini]}", "", 1)
	e = newEnv(t, alone, "openai", "anthropic")
	status, _, body = e.post("/v1/responses", req)
	msg, _ := body["error"].(map[string]any)["message"].(string)
	if status != 400 || !strings.Contains(msg, `parameter "reasoning_budget_v9" is newer than breakerd's translation of the responses API`) ||
		!strings.Contains(msg, "drop_params") || e.mocks["anthropic"].Stats().Requests != 0 {
		t.Fatalf("status %d, body %v", status, body)
	}
	// Under drop_params (LiteLLM's), the translating deployment goes
	// without it, and says so.
	e = newEnv(t, strings.Replace(alone, "api_key: sk-ant-secret-key}", "api_key: sk-ant-secret-key, drop_params: true}", 1), "openai", "anthropic")
	status, h, body = e.post("/v1/responses", req)
	if status != 200 || h.Get("X-Breakerd-Dropped-Params") != "reasoning_budget_v9" || strings.Contains(e.mocks["anthropic"].LastBody(), "reasoning_budget_v9") {
		t.Fatalf("under drop_params: status %d, headers %v, body %v", status, h, body)
	}
}

// A Messages client's structured output format reaches an OpenAI
// fallback as its json_schema response format: the answer follows the
// schema there too (the mock, as OpenAI, answers a value of it).
func TestMessagesStructuredOutputOnAnOpenAIFallback(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	e.mocks["anthropic"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	client := e.anthropicClient()
	msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "claude", MaxTokens: 256,
		OutputConfig: anthropic.OutputConfigParam{Format: anthropic.JSONOutputFormatParam{Schema: map[string]any{
			"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}}}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Where?"))}})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != `{"city":"mock"}` || e.mocks["openai"].Stats().Chat != 1 {
		t.Fatalf("answer %+v", msg.Content)
	}
}

// OpenAI's reasoning models refuse max_tokens, which a translated
// request (a Messages client's, at an OpenAI fallback) and older chat
// clients send: it goes as max_completion_tokens (the mock, as OpenAI,
// refuses max_tokens for them).
func TestMaxTokensToOpenAIReasoningModels(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-6, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
  - model_name: gpt
    litellm_params: {model: openai/gpt-5.4, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
router_settings:
  fallbacks: [{claude: [gpt]}]
`, "openai", "anthropic")
	status, h, body := e.post("/v1/chat/completions", `{"model":"gpt","max_tokens":50,"messages":[{"role":"user","content":"Hello"}]}`)
	if status != 200 {
		t.Fatalf("chat: status %d, headers %v, body %v", status, h, body)
	}
	e.mocks["anthropic"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	client := e.anthropicClient()
	msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "claude", MaxTokens: 256,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello"))}})
	if err != nil || !strings.Contains(msg.Content[0].Text, "Hello from openai!") {
		t.Fatalf("%v %+v", err, msg)
	}
}

// What OpenAI refuses of its models (reasoning_effort on one that does
// not reason, Anthropic's thinking on any) passes an OpenAI fallback over
// rather than failing there with "Unrecognized request argument
// supplied" (the mock, as OpenAI, refuses them); reasoning_effort
// "none" asks nothing of it and is left out.
func TestOpenAIRefusalsAtAnOpenAIFallback(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: gpt-dropping
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret, drop_params: true}
router_settings:
  fallbacks: [{claude: [gpt]}]
`, "openai", "anthropic")
	for _, tc := range []struct {
		model, params string
		status        int
		dropped       string
	}{
		{"gpt", `"reasoning_effort":"none"`, 200, ""},
		{"gpt", `"reasoning_effort":"high"`, 400, ""},
		{"gpt-dropping", `"reasoning_effort":"high"`, 200, "reasoning_effort"},
		{"gpt-dropping", `"thinking":{"type":"enabled","budget_tokens":2000}`, 200, "thinking"},
	} {
		status, h, body := e.post("/v1/chat/completions", `{"model":"`+tc.model+`",`+tc.params+`,"messages":[{"role":"user","content":"Hello"}]}`)
		if status != tc.status || h.Get("X-Breakerd-Dropped-Params") != tc.dropped {
			t.Fatalf("%s %s: status %d, headers %v, body %v", tc.model, tc.params, status, h, body)
		}
	}
	e.mocks["anthropic"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 529})
	status, _, body := e.post("/v1/chat/completions", `{"model":"claude","reasoning_effort":"high","max_tokens":5000,"messages":[{"role":"user","content":"Hello"}]}`)
	if status != 503 || e.mocks["openai"].Stats().Chat != 3 {
		t.Fatalf("status %d, body %v; OpenAI asked %d times", status, body, e.mocks["openai"].Stats().Chat)
	}
}

// OpenAI's reasoning models that always reason (o-series, GPT-5 and its
// mini, nano, pro) take sampling only at its default: a temperature of
// 0.7 passes such a fallback over (or is dropped under drop_params), a
// temperature of 1 is left out. GPT-5.1 and later take sampling only
// with reasoning_effort none, GPT-5.4's default and not GPT-5.5's: there
// it passes them over (or is left out at its default) while the request
// makes them reason (the mock, as OpenAI, refuses the others).
func TestSamplingAtOpenAIReasoningModels(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: mini
    litellm_params: {model: openai/gpt-5-mini, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: mini-dropping
    litellm_params: {model: openai/gpt-5-mini, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret, drop_params: true}
  - model_name: o3
    litellm_params: {model: openai/o3-mini, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: gpt54
    litellm_params: {model: openai/gpt-5.4, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: gpt55
    litellm_params: {model: openai/gpt-5.5, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: gpt55-dropping
    litellm_params: {model: openai/gpt-5.5, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret, drop_params: true}
`, "openai")
	for _, tc := range []struct {
		model, params string
		status        int
		dropped       string
	}{
		{"mini", `"temperature":0.7`, 400, ""},
		{"mini-dropping", `"temperature":0.7,"presence_penalty":0.5`, 200, "presence_penalty, temperature"},
		{"mini", `"temperature":1,"top_p":1,"frequency_penalty":0`, 200, ""},
		{"o3", `"top_p":0.5`, 400, ""},
		{"gpt54", `"temperature":0.7`, 200, ""},
		{"gpt54", `"temperature":0.7,"reasoning_effort":"none"`, 200, ""},
		{"gpt54", `"temperature":0.7,"reasoning_effort":"low"`, 400, ""},
		{"gpt54", `"temperature":1,"top_p":1,"logprobs":false,"reasoning_effort":"high"`, 200, ""},
		{"gpt55", `"top_p":0.9`, 400, ""},
		{"gpt55", `"top_p":0.9,"reasoning_effort":"none"`, 200, ""},
		{"gpt55-dropping", `"temperature":0.2,"logprobs":true`, 200, "logprobs, temperature"},
	} {
		status, h, body := e.post("/v1/chat/completions", `{"model":"`+tc.model+`",`+tc.params+`,"messages":[{"role":"user","content":"Hello"}]}`)
		if status != tc.status || h.Get("X-Breakerd-Dropped-Params") != tc.dropped {
			t.Fatalf("%s %s: status %d, headers %v, body %v", tc.model, tc.params, status, h, body)
		}
		apiErr, _ := body["error"].(map[string]any)
		if msg, _ := apiErr["message"].(string); tc.status == 400 && !strings.Contains(msg, "OpenAI's reasoning models") && !strings.Contains(msg, "only with reasoning_effort none") {
			t.Fatalf("%s %s: %v, want breakerd's 400 naming the rule", tc.model, tc.params, body)
		}
	}
}

// A reasoning effort written for one OpenAI model reaches another as the
// nearest it takes (the mock, as OpenAI, refuses the others with a 400):
// GPT-5's minimal at a GPT-5.1 fallback is none, and a Responses client's
// xhigh at o3 is high.
func TestReasoningEffortFitsTheFallback(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt5
    litellm_params: {model: openai/gpt-5-mini, api_base: "${MOCK_PRIMARY}/v1", api_key: sk-openai-secret}
  - model_name: gpt51
    litellm_params: {model: openai/gpt-5.1, api_base: "${MOCK_BACKUP}/v1", api_key: sk-openai-secret}
  - model_name: o3
    litellm_params: {model: openai/o3, api_base: "${MOCK_BACKUP}/v1", api_key: sk-openai-secret}
router_settings:
  fallbacks: [{gpt5: [gpt51]}]
`, "primary", "backup")
	e.mocks["primary"].SetFaults(mockllm.Faults{ErrorRate: 1, Status: 503})
	var resp *http.Response
	_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt5", ReasoningEffort: shared.ReasoningEffortMinimal,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")}}, option.WithResponseInto(&resp))
	if sent := e.mocks["backup"].LastBody(); err != nil || !strings.Contains(sent, `"reasoning_effort":"none"`) {
		t.Fatalf("%v: GPT-5.1 got %s", err, sent)
	}
	_, err = e.client.Responses.New(context.Background(), responses.ResponseNewParams{Model: "o3",
		Reasoning: shared.ReasoningParam{Effort: shared.ReasoningEffortXhigh},
		Input:     responses.ResponseNewParamsInputUnion{OfString: openai.String("Hello")}})
	if sent := e.mocks["backup"].LastBody(); err != nil || !strings.Contains(sent, `"effort":"high"`) {
		t.Fatalf("%v: o3 got %s", err, sent)
	}
}

// GPT-5.2 and later take function tools in chat completions only without
// reasoning ("Function tools with reasoning_effort are not supported ...
// use /v1/responses", the mock as OpenAI): a tool call that asks for
// reasoning passes GPT-5.4 over for a fallback that reasons with tools;
// under drop_params the effort is dropped, and GPT-5.6, which reasons by
// default, is asked for none; the Responses API takes both.
func TestToolsWithReasoningAtGPT54AndLater(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: gpt54
    litellm_params: {model: openai/gpt-5.4, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: gpt51
    litellm_params: {model: openai/gpt-5.1, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
  - model_name: gpt54-dropping
    litellm_params: {model: openai/gpt-5.4, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret, drop_params: true}
  - model_name: gpt56-dropping
    litellm_params: {model: openai/gpt-5.6-terra, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret, drop_params: true}
  - model_name: gpt56
    litellm_params: {model: openai/gpt-5.6-terra, api_base: "${MOCK_OPENAI}/v1", api_key: sk-openai-secret}
router_settings:
  fallbacks: [{gpt54: [gpt51]}]
`, "openai")
	const tools = `"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"messages":[{"role":"user","content":"Hi"}]`
	for _, tc := range []struct {
		model, params string
		status        int
		deployment    string // the one that served
		sent          string // in the body it got
		dropped       string
	}{
		{"gpt54", `"reasoning_effort":"high",`, 200, "gpt51/openai/gpt-5.1", `"reasoning_effort":"high"`, ""},
		{"gpt54", `"reasoning_effort":"none",`, 200, "gpt54/openai/gpt-5.4", `"reasoning_effort":"none"`, ""},
		{"gpt54-dropping", `"reasoning_effort":"high",`, 200, "gpt54-dropping/openai/gpt-5.4", `"tools"`, "reasoning_effort"},
		{"gpt56-dropping", ``, 200, "gpt56-dropping/openai/gpt-5.6-terra", `"reasoning_effort":"none"`, "reasoning_effort"},
		{"gpt54", `"reasoning_effort":"high","disable_fallbacks":true,`, 400, "", "", ""},
	} {
		status, h, body := e.post("/v1/chat/completions", `{"model":"`+tc.model+`",`+tc.params+tools+`}`)
		sent := e.mocks["openai"].LastBody()
		if status != tc.status || h.Get("X-Breakerd-Deployment") != tc.deployment || !strings.Contains(sent, tc.sent) ||
			h.Get("X-Breakerd-Dropped-Params") != tc.dropped || tc.dropped != "" && tc.sent == `"tools"` && strings.Contains(sent, "reasoning_effort") {
			t.Fatalf("%s %s: status %d, headers %v, body %v; sent %s", tc.model, tc.params, status, h, body, sent)
		}
		apiErr, _ := body["error"].(map[string]any)
		if msg, _ := apiErr["message"].(string); tc.status == 400 && !strings.Contains(msg, "only with reasoning_effort none") {
			t.Fatalf("%v, want breakerd's 400 naming the rule", body)
		}
	}
	status, _, body := e.post("/v1/responses", `{"model":"gpt56","reasoning":{"effort":"high"},"input":"Hi","tools":[{"type":"function","name":"f","parameters":{"type":"object"}}]}`)
	if status != 200 {
		t.Fatalf("Responses: status %d, body %v", status, body)
	}
}

// A Responses client's reasoning effort (Codex's) goes where it is taken,
// as the translation makes it (thinking, at a Claude), and is left out at
// an OpenAI-compatible server that may refuse it, which still serves.
func TestResponsesReasoningWhereTaken(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${MOCK_ANTHROPIC}", api_key: sk-ant-secret-key}
  - model_name: llama
    litellm_params: {model: groq/llama-3.3-70b-versatile, api_base: "${MOCK_GROQ}/v1", api_key: gsk-secret-key}
`, "anthropic", "groq")
	for model, mock := range map[string]string{"claude": "anthropic", "llama": "groq"} {
		_, err := e.client.Responses.New(context.Background(), responses.ResponseNewParams{Model: model,
			Reasoning: shared.ReasoningParam{Effort: shared.ReasoningEffortHigh}, MaxOutputTokens: openai.Int(8000),
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hello")}})
		sent := e.mocks[mock].LastBody()
		if err != nil || mock == "anthropic" && !strings.Contains(sent, `"thinking"`) || mock == "groq" && strings.Contains(sent, "reasoning_effort") {
			t.Fatalf("%s: %v; the deployment got %s", model, err, sent)
		}
	}
}

// A Messages stream from a chat deployment says its input's tokens in
// message_start (an estimate: the chat stream's usage comes at its end),
// as Anthropic's does and Claude Code shows the context's size from;
// message_delta then says the upstream's count.
func TestTranslatedMessagesStreamStartsWithItsInput(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	ac := e.anthropicClient()
	stream := ac.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{Model: "gpt-4o-mini", MaxTokens: 256,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(strings.Repeat("a prompt of some length ", 20)))}})
	defer stream.Close()
	var start, end int64
	for stream.Next() {
		switch ev := stream.Current(); ev.Type {
		case "message_start":
			start = ev.Message.Usage.InputTokens
		case "message_delta":
			end = ev.Usage.InputTokens
		}
	}
	if err := stream.Err(); err != nil || start < 100 || end == 0 {
		t.Fatalf("%v: message_start says %d input tokens, message_delta %d", err, start, end)
	}
}

// A chat deployment's cached prompt reaches a Messages client as
// Anthropic says one: cache_read_input_tokens, and input_tokens the rest
// (Claude Code counts the context, and the cost, from them), whole and
// streamed.
func TestTranslatedMessagesUsageSaysTheCache(t *testing.T) {
	e := newEnv(t, bothWays, "openai", "anthropic")
	ac := e.anthropicClient()
	ask := anthropic.MessageNewParams{Model: "gpt-4o-mini", MaxTokens: 256,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(strings.Repeat("a long and repeated prompt ", 400)))}}
	if _, err := ac.Messages.New(context.Background(), ask); err != nil { // writes the mock's cache
		t.Fatal(err)
	}
	msg, err := ac.Messages.New(context.Background(), ask)
	if err != nil || msg.Usage.CacheReadInputTokens == 0 || msg.Usage.InputTokens == 0 {
		t.Fatalf("whole: %v %s", err, msg.Usage.RawJSON())
	}
	stream := ac.Messages.NewStreaming(context.Background(), ask)
	defer stream.Close()
	var delta anthropic.MessageDeltaUsage
	for stream.Next() {
		if ev := stream.Current(); ev.Type == "message_delta" {
			delta = ev.Usage
		}
	}
	if err := stream.Err(); err != nil || delta.CacheReadInputTokens != msg.Usage.CacheReadInputTokens || delta.InputTokens != msg.Usage.InputTokens {
		t.Fatalf("streamed: %v %s, whole %s", err, delta.RawJSON(), msg.Usage.RawJSON())
	}
}

// A chat deployment's cached prompt reaches a Responses client in
// input_tokens_details.cached_tokens, whole and streamed.
func TestTranslatedResponsesUsageSaysTheCache(t *testing.T) {
	e := newEnv(t, `
model_list:
  - model_name: ds
    litellm_params: {model: deepseek/deepseek-chat, api_base: "${MOCK_DEEPSEEK}/v1", api_key: sk-deepseek-secret}
`, "deepseek")
	ctx := context.Background()
	ask := responses.ResponseNewParams{Model: "ds", Store: openai.Bool(false),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(strings.Repeat("a long and repeated prompt ", 400))}}
	if _, err := e.client.Responses.New(ctx, ask); err != nil { // writes the mock's cache
		t.Fatal(err)
	}
	for how, r := range e.responsesBothWays(ctx, ask) {
		if u := r.Usage; u.InputTokensDetails.CachedTokens == 0 || u.InputTokensDetails.CachedTokens > u.InputTokens {
			t.Fatalf("%s: usage %s", how, u.RawJSON())
		}
	}
}
