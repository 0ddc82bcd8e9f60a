package provider

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	anthropicsdk "github.com/anthropics/anthropic-sdk-go"

	"github.com/breakerd/breakerd/config"
)

// chunksOf reads a stream to its end: its chunks, copied.
func chunksOf(t *testing.T, s Stream) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		c, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), c...))
	}
}

func body(t *testing.T, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// canonical re-encodes JSON so that key order and spacing do not matter.
func canonical(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	_ = json.Unmarshal(b, &x)
	out, _ := json.Marshal(x)
	return string(out)
}

func TestRequestTranslationGolden(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "system and developer messages become system; max_tokens defaults",
			in:   `{"model":"g","messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":[{"type":"text","text":"Use metric."}]},{"role":"user","content":"Hi"}]}`,
			want: `{"model":"claude-x","max_tokens":4096,"system":[{"type":"text","text":"Be brief."},{"type":"text","text":"Use metric."}],"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
		{
			name: "consecutive same-role messages merge; sampling parameters map",
			in:   `{"model":"g","max_tokens":100,"temperature":0.2,"top_p":0.9,"stop":"END","user":"u-42","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"assistant","content":"c"}]}`,
			want: `{"model":"claude-x","max_tokens":100,"temperature":0.2,"top_p":0.9,"stop_sequences":["END"],"metadata":{"user_id":"u-42"},"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":[{"type":"text","text":"c"}]}]}`,
		},
		{
			name: "images as base64 data URLs and as URLs",
			in:   `{"model":"g","max_completion_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0K"}},{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]}`,
			want: `{"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0K"}},{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}]}`,
		},
		{
			name: "files: a PDF (data URL or bare base64) is a document, titled by its filename; text is a text document",
			in: `{"model":"g","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"q3.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}},` +
				`{"type":"file","file":{"file_data":"JVBERi0y"}},{"type":"file","file":{"filename":"notes.txt","file_data":"data:text/plain;base64,aGVsbG8="}}]}]}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[` +
				`{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"},"title":"q3.pdf"},` +
				`{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0y"}},` +
				`{"type":"document","source":{"type":"text","media_type":"text/plain","data":"hello"},"title":"notes.txt"}]}]}`,
		},
		{
			name: "tools, tool_choice, tool calls and tool results",
			in: `{"model":"g","stop":["x","y"],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false,
			"messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"18C"},{"role":"user","content":"Thanks"}]}`,
			want: `{"model":"claude-x","max_tokens":4096,"stop_sequences":["x","y"],"tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],"tool_choice":{"type":"tool","name":"get_weather","disable_parallel_tool_use":true},
			"messages":[{"role":"user","content":[{"type":"text","text":"Weather in Paris?"}]},{"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":[{"type":"text","text":"18C"}]},{"type":"text","text":"Thanks"}]}]}`,
		},
		{
			name: "LiteLLM's cache_control, on parts, messages and tools, for prompt caching",
			in: `{"model":"g","tools":[{"type":"function","function":{"name":"f"},"cache_control":{"type":"ephemeral"}}],"messages":[` +
				`{"role":"system","content":[{"type":"text","text":"long rules","cache_control":{"type":"ephemeral"}},{"type":"text","text":"today"}]},` +
				`{"role":"user","content":[{"type":"text","text":"a long document","cache_control":{"type":"ephemeral","ttl":"1h"}},{"type":"text","text":"q1"}]},` +
				`{"role":"assistant","content":"a1"},{"role":"user","content":"q2","cache_control":{"type":"ephemeral"}}]}`,
			want: `{"model":"claude-x","max_tokens":4096,"tools":[{"name":"f","input_schema":{"type":"object","properties":{}},"cache_control":{"type":"ephemeral"}}],` +
				`"system":[{"type":"text","text":"long rules","cache_control":{"type":"ephemeral"}},{"type":"text","text":"today"}],"messages":[` +
				`{"role":"user","content":[{"type":"text","text":"a long document","cache_control":{"type":"ephemeral","ttl":"1h"}},{"type":"text","text":"q1"}]},` +
				`{"role":"assistant","content":[{"type":"text","text":"a1"}]},{"role":"user","content":[{"type":"text","text":"q2","cache_control":{"type":"ephemeral"}}]}]}`,
		},
		{
			name: "tool_choice strings and harmless parameters",
			in:   `{"model":"g","n":1,"logprobs":false,"presence_penalty":0,"stream":true,"stream_options":{"include_usage":true},"tool_choice":"required","tools":[{"type":"function","function":{"name":"f"}}],"messages":[{"role":"user","content":"go"}]}`,
			want: `{"model":"claude-x","max_tokens":4096,"stream":true,"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"any"},"messages":[{"role":"user","content":[{"type":"text","text":"go"}]}]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := toAnthropic(body(t, tc.in), "claude-x", 4096, false)
			if err != nil {
				t.Fatal(err)
			}
			var want any
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if g, w := canonical(t, got), canonical(t, want); g != w {
				t.Fatalf("got\n%s\nwant\n%s", g, w)
			}
			// Cross-check with the official SDK: what we send must decode
			// into its MessageNewParams and encode back unchanged, so a
			// field the real API does not have fails the test.
			raw, _ := json.Marshal(got)
			var params anthropicsdk.MessageNewParams
			if err := json.Unmarshal(raw, &params); err != nil {
				t.Fatalf("the SDK cannot decode our request: %v", err)
			}
			back, merr := json.Marshal(params)
			if merr != nil {
				t.Fatal(merr)
			}
			var a, b map[string]any
			_ = json.Unmarshal(raw, &a)
			_ = json.Unmarshal(back, &b)
			delete(a, "stream") // the SDK sets stream itself, outside MessageNewParams
			if g, w := canonical(t, b), canonical(t, a); g != w {
				t.Fatalf("the SDK's view differs from what we send:\nsdk  %s\nours %s", g, w)
			}
		})
	}
}

func TestUnsupportedParametersAre400(t *testing.T) {
	for param, value := range map[string]string{"n": "2", "logprobs": "true", "top_logprobs": "3", "logit_bias": `{"1":2}`,
		"frequency_penalty": "0.5", "response_format": `{"type":"xml"}`, "seed": "7", "some_new_field": "1",
		"temperature": "1.5"} {
		t.Run(param, func(t *testing.T) {
			_, err := toAnthropic(body(t, `{"model":"g","messages":[{"role":"user","content":"x"}],"`+param+`":`+value+`}`), "c", 10, false)
			if err == nil || err.Status != 400 || !strings.Contains(err.Message, param) {
				t.Fatalf("got %v, want a 400 naming %s", err, param)
			}
		})
	}
}

func TestResponseTranslationGolden(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "text, end_turn and usage",
			in:   `{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-sonnet-20241022","content":[{"type":"text","text":"Hello"},{"type":"text","text":" there"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":3}}`,
			want: `{"id":"msg_1","object":"chat.completion","created":1700000000,"model":"dep-model","choices":[{"index":0,"logprobs":null,"finish_reason":"stop","message":{"role":"assistant","content":"Hello there","refusal":null}}],"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}`,
		},
		{
			name: "tool use becomes tool_calls",
			in:   `{"id":"msg_2","type":"message","role":"assistant","model":"m","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":7}}`,
			want: `{"id":"msg_2","object":"chat.completion","created":1700000000,"model":"dep-model","choices":[{"index":0,"logprobs":null,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}`,
		},
		{
			name: "a cached prefix counts in prompt_tokens, the tokens read from the cache in cached_tokens",
			in:   `{"id":"msg_4","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":2,"cache_read_input_tokens":1000,"cache_creation_input_tokens":300}}`,
			want: `{"id":"msg_4","object":"chat.completion","created":1700000000,"model":"dep-model","choices":[{"index":0,"logprobs":null,"finish_reason":"stop","message":{"role":"assistant","content":"ok","refusal":null}}],"usage":{"prompt_tokens":1312,"completion_tokens":2,"total_tokens":1314,"prompt_tokens_details":{"cached_tokens":1000}}}`,
		},
		{
			name: "max_tokens becomes length",
			in:   `{"id":"msg_3","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"cut"}],"stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}`,
			want: `{"id":"msg_3","object":"chat.completion","created":1700000000,"model":"dep-model","choices":[{"index":0,"logprobs":null,"finish_reason":"length","message":{"role":"assistant","content":"cut","refusal":null}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The input is a real Anthropic response: the SDK decodes it.
			var msg anthropicsdk.Message
			if err := json.Unmarshal([]byte(tc.in), &msg); err != nil || msg.ID == "" {
				t.Fatalf("not a valid Anthropic message: %v", err)
			}
			var ar anthropicResponse
			if err := json.Unmarshal([]byte(tc.in), &ar); err != nil {
				t.Fatal(err)
			}
			var want any
			_ = json.Unmarshal([]byte(tc.want), &want)
			if g, w := canonical(t, fromAnthropic(&ar, "dep-model", 1700000000, false)), canonical(t, want); g != w {
				t.Fatalf("got\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func sseOf(events ...string) io.ReadCloser {
	var b strings.Builder
	for _, e := range events {
		name := e[strings.Index(e, `"type":"`)+8:]
		name = name[:strings.Index(name, `"`)]
		b.WriteString("event: " + name + "\ndata: " + e + "\n\n")
	}
	return io.NopCloser(strings.NewReader(b.String()))
}

func TestStreamTranslationGolden(t *testing.T) {
	events := []string{
		`{"type":"message_start","message":{"id":"msg_s","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}`,
		`{"type":"ping"}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check."}}`,
		`{"type":"content_block_stop","index":0}`,
		`{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"get_weather","input":{}}}`,
		`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}`,
		`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}`,
		`{"type":"content_block_stop","index":1}`,
		`{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":20}}`,
		`{"type":"message_stop"}`,
	}
	// The events are real Anthropic events: the SDK accumulates them.
	var acc anthropicsdk.Message
	for _, e := range events {
		var ev anthropicsdk.MessageStreamEventUnion
		if err := json.Unmarshal([]byte(e), &ev); err != nil {
			t.Fatal(err)
		}
		if err := acc.Accumulate(ev); err != nil {
			t.Fatalf("SDK rejects event %s: %v", e, err)
		}
	}
	if len(acc.Content) != 2 || acc.StopReason != "tool_use" {
		t.Fatalf("SDK accumulated %+v", acc)
	}
	s := newAnthropicStream(t.Context(), sseOf(events...), "dep-model", true, 1700000000, func(s string) string { return s })
	var deltas []string
	for _, c := range chunksOf(t, s) {
		var chunk struct {
			Object  string `json:"object"`
			ID      string `json:"id"`
			Model   string `json:"model"`
			Choices []struct {
				Delta        json.RawMessage `json:"delta"`
				FinishReason *string         `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				Prompt, Completion int
			} `json:"usage"`
		}
		if err := json.Unmarshal(c, &chunk); err != nil || chunk.Object != "chat.completion.chunk" || chunk.ID != "msg_s" || chunk.Model != "dep-model" {
			t.Fatalf("chunk %s", c)
		}
		switch {
		case len(chunk.Choices) == 0:
			deltas = append(deltas, "usage")
		case chunk.Choices[0].FinishReason != nil:
			deltas = append(deltas, "finish:"+*chunk.Choices[0].FinishReason)
		default:
			deltas = append(deltas, string(chunk.Choices[0].Delta))
		}
	}
	want := []string{
		`{"content":"","role":"assistant"}`,
		`{"content":"Let me check."}`,
		`{"tool_calls":[{"function":{"arguments":"","name":"get_weather"},"id":"toolu_9","index":0,"type":"function"}]}`,
		`{"tool_calls":[{"function":{"arguments":"{\"city\":"},"index":0}]}`,
		`{"tool_calls":[{"function":{"arguments":"\"Paris\"}"},"index":0}]}`,
		"finish:tool_calls",
		"usage",
	}
	if strings.Join(deltas, "\n") != strings.Join(want, "\n") {
		t.Fatalf("chunks\n%s\nwant\n%s", strings.Join(deltas, "\n"), strings.Join(want, "\n"))
	}
	if u := s.Usage(); u.InputTokens != 12 || u.OutputTokens != 20 {
		t.Fatalf("usage %+v", u)
	}
}

func TestStreamErrorEventIsAnError(t *testing.T) {
	s := newAnthropicStream(t.Context(), sseOf(
		`{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1,"output_tokens":1}}}`,
		`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
	), "x", false, 0, func(s string) string { return s })
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Next()
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != 529 || !strings.Contains(pe.Message, "Overloaded") {
		t.Fatalf("got %v", err)
	}
}

func TestAnthropicErrorMapping(t *testing.T) {
	p := &anthropic{redact: func(s string) string { return strings.ReplaceAll(s, "sk-ant-secret", "[REDACTED]") }, now: time.Now}
	for _, tc := range []struct {
		status       int
		typ, wantTyp string
	}{
		{400, "invalid_request_error", "invalid_request_error"},
		{401, "authentication_error", "authentication_error"},
		{429, "rate_limit_error", "rate_limit_error"},
		{529, "overloaded_error", "server_error"},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Retry-After": {"7"}},
			Body: io.NopCloser(strings.NewReader(`{"type":"error","error":{"type":"` + tc.typ + `","message":"bad key sk-ant-secret"}}`))}
		e := p.httpError(resp)
		if e.Status != tc.status || e.Type != tc.wantTyp || e.RetryAfter.Seconds() != 7 || strings.Contains(e.Message, "sk-ant-secret") {
			t.Fatalf("%d: %+v", tc.status, e)
		}
	}
}

// JSON mode on Anthropic, as LiteLLM does it: response_format becomes a
// forced tool whose input schema is the schema asked for, and the tool's
// input comes back as the message content, not a tool call.
func TestJSONModeIsAForcedTool(t *testing.T) {
	for _, tc := range []struct{ name, rf, schema string }{
		{"json_object", `{"type":"json_object"}`, `{"type":"object"}`},
		{"json_schema", `{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"x":{"type":"integer"}}}}}`,
			`{"type":"object","properties":{"x":{"type":"integer"}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := toAnthropic(body(t, `{"model":"g","messages":[{"role":"user","content":"x"}],"response_format":`+tc.rf+`}`), "c", 10, false)
			if err != nil {
				t.Fatal(err)
			}
			if !req.jsonMode || len(req.Tools) != 1 || req.Tools[0].Name != jsonTool || string(req.Tools[0].InputSchema) != tc.schema ||
				req.ToolChoice["type"] != "tool" || req.ToolChoice["name"] != jsonTool {
				t.Fatalf("request %+v", req)
			}
		})
	}
	ar := anthropicResponse{ID: "msg_1", StopReason: "tool_use",
		Content: []anthropicBlock{{Type: "tool_use", ID: "t1", Name: jsonTool, Input: json.RawMessage(`{"x":1}`)}}}
	got := fromAnthropic(&ar, "m", 1, true)
	choice := got["choices"].([]map[string]any)[0]
	msg := choice["message"].(map[string]any)
	if msg["content"] != `{"x":1}` || msg["tool_calls"] != nil || choice["finish_reason"] != "stop" {
		t.Fatalf("response %+v", choice)
	}
}

// reasoning_effort becomes an Anthropic thinking budget (LiteLLM's
// mapping), with max_tokens raised above it; thinking passes through.
func TestReasoningEffortBecomesThinking(t *testing.T) {
	req, err := toAnthropic(body(t, `{"model":"g","messages":[{"role":"user","content":"x"}],"reasoning_effort":"medium"}`), "c", 1000, false)
	if err != nil {
		t.Fatal(err)
	}
	if string(req.Thinking) != `{"budget_tokens":2048,"type":"enabled"}` || req.MaxTokens <= 2048 {
		t.Fatalf("thinking %s, max_tokens %d", req.Thinking, req.MaxTokens)
	}
	req, err = toAnthropic(body(t, `{"model":"g","messages":[{"role":"user","content":"x"}],"max_tokens":9000,"thinking":{"type":"enabled","budget_tokens":3000}}`), "c", 1000, false)
	if err != nil || string(req.Thinking) != `{"type":"enabled","budget_tokens":3000}` || req.MaxTokens != 9000 {
		t.Fatalf("%v: thinking %s, max_tokens %d", err, req.Thinking, req.MaxTokens)
	}
}

// A stream's usage chunk counts the cached prefix as the whole answer's
// does.
func TestStreamedUsageCountsTheCachedPrefix(t *testing.T) {
	sse := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":12,\"output_tokens\":1,\"cache_read_input_tokens\":1000,\"cache_creation_input_tokens\":300}}}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	st := newAnthropicStream(context.Background(), io.NopCloser(strings.NewReader(sse)), "m", true, 1, func(s string) string { return s })
	chunks := chunksOf(t, st)
	last := chunks[len(chunks)-1]
	if !strings.Contains(string(last), `"usage":{"completion_tokens":5,"prompt_tokens":1312,"prompt_tokens_details":{"cached_tokens":1000},"total_tokens":1317}`) ||
		st.Usage() != (Usage{InputTokens: 1312, OutputTokens: 5, CacheReadTokens: 1000, CacheWriteTokens: 300}) {
		t.Fatalf("usage chunk %s, usage %+v", last, st.Usage())
	}
}

// A file Anthropic cannot take is the request's 400, naming the part and
// saying how to send it.
func TestFilePartsAnthropicCannotTakeAre400(t *testing.T) {
	for name, part := range map[string]string{
		"an uploaded file's id":         `{"type":"file","file":{"file_id":"file-abc"}}`,
		"text that is not UTF-8":        `{"type":"file","file":{"file_data":"data:text/plain;base64,/w=="}}`,
		"a data URL that is not base64": `{"type":"file","file":{"file_data":"data:application/pdf,%25PDF"}}`,
	} {
		_, err := toAnthropic(body(t, `{"model":"g","messages":[{"role":"user","content":[`+part+`]}]}`), "c", 10, false)
		if err == nil || err.Status != 400 || !strings.Contains(err.Message, "messages[0].content[0]: ") {
			t.Errorf("%s: %v, want a 400 naming messages[0].content[0]", name, err)
		}
	}
}

// Claude Opus 4.7 and the models after it think only adaptively:
// reasoning_effort becomes adaptive thinking with that effort (and the
// thinking summarized, as chat clients read it), a client's budget
// becomes adaptive thinking, and disabled is left out, as they refuse it.
// Earlier models keep budgets.
func TestAdaptiveOnlyModelsThinkAdaptively(t *testing.T) {
	for _, tc := range []struct {
		name, model, params string
		thinking, effort    string
	}{
		{"reasoning_effort", "claude-opus-4-7", `"reasoning_effort":"high"`, `{"type":"adaptive","display":"summarized"}`, "high"},
		{"minimal is low", "claude-opus-4-8-20260601", `"reasoning_effort":"minimal"`, `{"type":"adaptive","display":"summarized"}`, "low"},
		{"xhigh", "claude-sonnet-5", `"reasoning_effort":"xhigh"`, `{"type":"adaptive","display":"summarized"}`, "xhigh"},
		{"Bedrock's id", "us.anthropic.claude-fable-5-v1:0", `"reasoning_effort":"medium"`, `{"type":"adaptive","display":"summarized"}`, "medium"},
		{"Vertex AI's id", "claude-opus-4-7@20260416", `"reasoning_effort":"low"`, `{"type":"adaptive","display":"summarized"}`, "low"},
		{"none is no thinking", "claude-opus-4-7", `"reasoning_effort":"none"`, "", ""},
		{"a budget becomes adaptive", "claude-opus-4-7", `"thinking":{"type":"enabled","budget_tokens":3000}`, `{"type":"adaptive","display":"summarized"}`, ""},
		{"disabled is left out", "claude-fable-5", `"thinking":{"type":"disabled"}`, "", ""},
		{"adaptive passes through", "claude-opus-4-7", `"thinking":{"type":"adaptive"}`, `{"type":"adaptive"}`, ""},
		{"an earlier model keeps budgets", "claude-sonnet-4-5", `"reasoning_effort":"high"`, `{"budget_tokens":4096,"type":"enabled"}`, ""},
		{"Opus 4.6 keeps budgets", "claude-opus-4-6", `"reasoning_effort":"low"`, `{"budget_tokens":1024,"type":"enabled"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := toAnthropic(body(t, `{"model":"g","messages":[{"role":"user","content":"x"}],`+tc.params+`}`), tc.model, 1000, false)
			if err != nil {
				t.Fatal(err)
			}
			if effort, _ := req.OutputConfig["effort"].(string); string(req.Thinking) != tc.thinking || effort != tc.effort {
				t.Fatalf("thinking %s, output_config %v; want %s, effort %q", req.Thinking, req.OutputConfig, tc.thinking, tc.effort)
			}
			buf, _ := json.Marshal(req)
			if strings.Contains(string(buf), "output_config") != (tc.effort != "") {
				t.Fatalf("sent %s", buf)
			}
		})
	}
}

// Those models refuse temperature and top_p, any Claude with thinking on
// takes temperature only at 1 and top_p only from 0.95, and Claude 4.1 to
// 4.6 take one of temperature and top_p, not both: a value that
// matters is a 400 in translation and a parameter the deployment cannot
// take (dropped under drop_params, else the deployment is passed over);
// the default (1) changes nothing (and is left out where refused).
func TestClaudeRefusesSamplingItCannotHonour(t *testing.T) {
	for _, tc := range []struct {
		model, params string
		refused       []string
		why           string
		sent          string // the temperature sent, when not refused
	}{
		{"claude-opus-4-7", `"temperature":0.7`, []string{"temperature"}, "Claude Opus 4.7", ""},
		{"us.anthropic.claude-opus-4-8-v1:0", `"temperature":0.2,"top_p":0.9`, []string{"temperature", "top_p"}, "Claude Opus 4.7", ""},
		{"claude-opus-4-7", `"temperature":1,"top_p":1`, nil, "", "null"},
		{"claude-opus-4-7", `"temperature":null`, nil, "", "null"},
		{"claude-sonnet-4-6", `"temperature":0.7`, nil, "", "0.7"},
		{"claude-sonnet-4-5", `"temperature":0.5,"reasoning_effort":"high"`, []string{"temperature"}, "with thinking on", ""},
		{"claude-sonnet-4-5", `"top_p":0.9,"thinking":{"type":"enabled","budget_tokens":2000}`, []string{"top_p"}, "from 0.95", ""},
		{"claude-sonnet-4-20250514", `"temperature":1,"top_p":0.97,"reasoning_effort":"low"`, nil, "", "1"},
		{"claude-sonnet-4-5-20250929", `"temperature":0.5,"top_p":0.9`, []string{"top_p"}, "not both", ""},
		{"claude-sonnet-4-5-20250929", `"temperature":0.5,"top_p":1`, nil, "", "0.5"},
		{"us.anthropic.claude-haiku-4-5-20251001-v1:0", `"temperature":0.5,"top_p":null`, nil, "", "0.5"},
		{"claude-sonnet-4-6", `"top_p":0.9`, nil, "", "null"},
		{"claude-sonnet-4-20250514", `"temperature":0.5,"top_p":0.9`, nil, "", "0.5"},
		{"claude-opus-4-7", `"top_k":40`, []string{"top_k"}, "Claude Opus 4.7", ""},
		{"claude-sonnet-4-5", `"top_k":40,"reasoning_effort":"low"`, []string{"top_k"}, "no top_k", ""},
		{"claude-sonnet-4-5", `"top_k":40`, nil, "", "null"},
		{"claude-3-5-haiku-20241022", `"temperature":1.5`, []string{"temperature"}, "at most 1", ""},
		{"claude-sonnet-4-5", `"temperature":0.5,"reasoning_effort":"none"`, nil, "", "0.5"},
	} {
		t.Run(tc.model+" "+tc.params, func(t *testing.T) {
			in := `{"model":"g","messages":[{"role":"user","content":"x"}],` + tc.params + `}`
			p := &anthropic{d: config.Deployment{Model: tc.model}}
			params, why := p.Unsupported(&Request{Body: []byte(in)})
			if !slices.Equal(params, tc.refused) || !strings.Contains(why, tc.why) {
				t.Fatalf("Unsupported = %v, %q; want %v, %q", params, why, tc.refused, tc.why)
			}
			req, err := toAnthropic(body(t, in), tc.model, 10, false)
			if len(tc.refused) > 0 {
				if err == nil || err.Status != 400 || !strings.Contains(err.Message, tc.refused[0]) || !strings.Contains(err.Message, tc.model) {
					t.Fatalf("got %v, want a 400 naming %s and the model", err, tc.refused[0])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(req.Temperature); string(got) != tc.sent {
				t.Fatalf("temperature sent %s, want %s", got, tc.sent)
			}
			if strings.Contains(tc.params, `"top_p":1`) && req.TopP != nil {
				t.Fatalf("top_p %v sent: at its default, it is left out", *req.TopP)
			}
		})
	}
}

// Claude's thinking reaches chat clients as LiteLLM gives it: the text in
// reasoning_content, the blocks with their signatures in thinking_blocks
// (a stream's each whole, once it ends, indexed), which a client sends
// back on its assistant message so that a tool call's thinking precedes
// it.
func TestThinkingReachesChatClients(t *testing.T) {
	var ar anthropicResponse
	if err := json.Unmarshal([]byte(`{"id":"m","content":[{"type":"thinking","thinking":"Weigh it.","signature":"sig1"},{"type":"redacted_thinking","data":"enc"},`+
		`{"type":"text","text":"Done."}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":2}}`), &ar); err != nil {
		t.Fatal(err)
	}
	msg := fromAnthropic(&ar, "m", 1, false)["choices"].([]map[string]any)[0]["message"].(map[string]any)
	blocks, _ := json.Marshal(msg["thinking_blocks"])
	if msg["reasoning_content"] != "Weigh it." || msg["content"] != "Done." ||
		string(blocks) != `[{"signature":"sig1","thinking":"Weigh it.","type":"thinking"},{"data":"enc","type":"redacted_thinking"}]` {
		t.Fatalf("message %v, thinking_blocks %s", msg, blocks)
	}
	plain := fromAnthropic(&anthropicResponse{Content: []anthropicBlock{{Type: "text", Text: "x"}}}, "m", 1, false)["choices"].([]map[string]any)[0]["message"].(map[string]any)
	if _, ok := plain["reasoning_content"]; ok {
		t.Fatalf("an answer without thinking has reasoning_content: %v", plain)
	}

	st := newAnthropicStream(t.Context(), sseOf(
		`{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1}}}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Weigh"}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" it."}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig1"}}`,
		`{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"enc"}}`,
		`{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}`,
		`{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"Done."}}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}`,
		`{"type":"message_stop"}`), "m", false, 1, func(s string) string { return s })
	var deltas []string
	for _, c := range chunksOf(t, st) {
		var chunk struct {
			Choices []struct {
				Delta json.RawMessage `json:"delta"`
			} `json:"choices"`
		}
		_ = json.Unmarshal(c, &chunk)
		deltas = append(deltas, string(chunk.Choices[0].Delta))
	}
	if want := `{"content":"","role":"assistant"} {"reasoning_content":"Weigh"} {"reasoning_content":" it."} ` +
		`{"thinking_blocks":[{"index":0,"signature":"sig1","thinking":"Weigh it.","type":"thinking"}]} ` +
		`{"thinking_blocks":[{"data":"enc","index":1,"type":"redacted_thinking"}]} {"content":"Done."} {}`; strings.Join(deltas, " ") != want {
		t.Fatalf("deltas %s\nwant   %s", strings.Join(deltas, " "), want)
	}

	req, err := toAnthropic(body(t, `{"model":"g","messages":[{"role":"user","content":"x"},`+
		`{"role":"assistant","content":null,"thinking_blocks":[{"type":"thinking","thinking":"Weigh it.","signature":"sig1"}],"tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}}]},`+
		`{"role":"tool","tool_call_id":"t1","content":"ok"}]}`), "claude-opus-4-7", 10, false)
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := json.Marshal(req.Messages[1])
	if want := `{"role":"assistant","content":[{"type":"thinking","thinking":"Weigh it.","signature":"sig1"},{"type":"tool_use","id":"t1","name":"f","input":{}}]}`; string(sent) != want {
		t.Fatalf("assistant message sent as\n%s\nwant\n%s", sent, want)
	}
	if _, err := toAnthropic(body(t, `{"model":"g","messages":[{"role":"assistant","content":"a","thinking_blocks":[{"type":"text","text":"no"}]}]}`), "c", 10, false); err == nil || err.Status != 400 {
		t.Fatalf("a thinking block of another type: %v, want a 400", err)
	}
}

// A Messages request written for one Claude reaches another by fallback
// with its thinking, effort and default sampling as that one takes them.
func TestThinkingFitsTheDeploymentsClaude(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	for _, tc := range []struct {
		name, model, in, want string // want "": the body unchanged
	}{
		{"adaptive and an effort to a budget model", "claude-haiku-4-5",
			`{"model":"m","max_tokens":32000,"thinking":{"type":"adaptive"},"output_config":{"effort":"medium"},` + msgs + `}`,
			`{"max_tokens":32000,"messages":[{"role":"user","content":"hi"}],"model":"m","thinking":{"budget_tokens":2048,"type":"enabled"}}`},
		{"no effort is high; a format stays", "us.anthropic.claude-sonnet-4-5-v1:0",
			`{"model":"m","max_tokens":9000,"thinking":{"type":"adaptive","display":"summarized"},"output_config":{"format":{"type":"json_schema"}},` + msgs + `}`,
			`{"max_tokens":9000,"messages":[{"role":"user","content":"hi"}],"model":"m","output_config":{"format":{"type":"json_schema"}},"thinking":{"budget_tokens":4096,"type":"enabled"}}`},
		{"the budget stays under max_tokens", "claude-sonnet-4-5",
			`{"model":"m","max_tokens":3000,"thinking":{"type":"adaptive"},"output_config":{"effort":"max"},` + msgs + `}`,
			`{"max_tokens":3000,"messages":[{"role":"user","content":"hi"}],"model":"m","thinking":{"budget_tokens":2999,"type":"enabled"}}`},
		{"no room to think", "claude-sonnet-4-5",
			`{"model":"m","max_tokens":500,"thinking":{"type":"adaptive"},` + msgs + `}`,
			`{"max_tokens":500,"messages":[{"role":"user","content":"hi"}],"model":"m"}`},
		{"a budget to Opus 4.7's contract", "claude-opus-4-7",
			`{"model":"m","max_tokens":9000,"thinking":{"type":"enabled","budget_tokens":4000},` + msgs + `}`,
			`{"max_tokens":9000,"messages":[{"role":"user","content":"hi"}],"model":"m","thinking":{"display":"summarized","type":"adaptive"}}`},
		{"disabled to Opus 4.7's contract", "claude-fable-5",
			`{"model":"m","max_tokens":9000,"thinking":{"type":"disabled"},` + msgs + `}`,
			`{"max_tokens":9000,"messages":[{"role":"user","content":"hi"}],"model":"m"}`},
		{"thinking to Claude 3.5", "claude-3-5-sonnet-20241022",
			`{"model":"m","max_tokens":9000,"thinking":{"type":"enabled","budget_tokens":4000},"output_config":{"effort":"low"},` + msgs + `}`,
			`{"max_tokens":9000,"messages":[{"role":"user","content":"hi"}],"model":"m"}`},
		{"adaptive to Opus 4.7's contract", "claude-opus-4-8", `{"model":"m","max_tokens":9000,"thinking":{"type":"adaptive"},"output_config":{"effort":"xhigh"},` + msgs + `}`, ""},
		{"anything to Claude 4.6", "claude-sonnet-4-6", `{"model":"m","max_tokens":9000,"thinking":{"type":"enabled","budget_tokens":4000},` + msgs + `}`, ""},
		{"a budget to a budget model", "claude-haiku-4-5", `{"model":"m","max_tokens":9000,"thinking":{"type":"enabled","budget_tokens":4000},` + msgs + `}`, ""},
		{"a model that is not Claude", "kimi-k2", `{"model":"m","max_tokens":9000,"thinking":{"type":"adaptive"},` + msgs + `}`, ""},
		{"no thinking", "claude-haiku-4-5", `{"model":"m","max_tokens":9000,` + msgs + `}`, ""},
		{"top_p's default beside temperature, to Claude 4.5", "claude-sonnet-4-5", `{"model":"m","max_tokens":9000,"temperature":0.5,"top_p":1,` + msgs + `}`,
			`{"max_tokens":9000,"messages":[{"role":"user","content":"hi"}],"model":"m","temperature":0.5}`},
		{"the defaults, to Opus 4.7's contract", "claude-opus-4-7", `{"model":"m","max_tokens":9000,"temperature":1,"top_p":1,` + msgs + `}`,
			`{"max_tokens":9000,"messages":[{"role":"user","content":"hi"}],"model":"m"}`},
		{"top_p's default alone, to Claude 4.5", "claude-sonnet-4-5", `{"model":"m","max_tokens":9000,"top_p":1,` + msgs + `}`, ""},
		{"sampling that matters is Unsupported's", "claude-sonnet-4-5", `{"model":"m","max_tokens":9000,"temperature":0.5,"top_p":0.9,` + msgs + `}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fitClaude(tc.model, []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if want := cmp.Or(tc.want, tc.in); string(got) != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// The chat parameters OpenAI clients send today reach an Anthropic
// deployment as it can take them: prompt caching's key and retention
// (OpenAI's cache routing) change nothing; safety_identifier is the end
// user, as user is; top_k is Claude's own; verbosity (but its default)
// and web search are parameters it cannot take, and so is one newer than
// the translation: dropped under drop_params, else the deployment passed
// over, never a 400 that ends a request another deployment could serve.
func TestTodaysChatParametersOnAnthropic(t *testing.T) {
	for _, tc := range []struct {
		params  string
		refused []string
		sent    string // a fragment of the translated request
	}{
		{`"prompt_cache_key":"agent-7","prompt_cache_retention":"24h"`, nil, `"messages"`},
		{`"safety_identifier":"u-hash"`, nil, `"metadata":{"user_id":"u-hash"}`},
		{`"safety_identifier":"u-hash","user":"u1"`, nil, `"metadata":{"user_id":"u1"}`},
		{`"top_k":40`, nil, `"top_k":40`},
		{`"verbosity":"medium"`, nil, `"messages"`},
		{`"verbosity":"low"`, []string{"verbosity"}, ""},
		{`"web_search_options":{}`, []string{"web_search_options"}, ""},
		{`"some_future_param":{"x":1}`, []string{"some_future_param"}, ""},
	} {
		t.Run(tc.params, func(t *testing.T) {
			in := `{"model":"g","messages":[{"role":"user","content":"x"}],` + tc.params + `}`
			p := &anthropic{d: config.Deployment{Model: "claude-sonnet-4-5"}}
			if params, _ := p.Unsupported(&Request{Body: []byte(in)}); !slices.Equal(params, tc.refused) {
				t.Fatalf("Unsupported = %v, want %v", params, tc.refused)
			}
			req, err := toAnthropic(body(t, in), "claude-sonnet-4-5", 10, false)
			if len(tc.refused) > 0 {
				if err == nil || err.Status != 400 {
					t.Fatalf("translated %v, %v; want a 400", req, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(req); !strings.Contains(string(got), tc.sent) {
				t.Fatalf("sent %s, want %s in it", got, tc.sent)
			}
		})
	}
}

// Every parameter translatedParams names is one toAnthropic translates:
// null for each is no "not supported" 400.
func TestTranslatedParamsAreTranslated(t *testing.T) {
	for k := range translatedParams {
		if k == "messages" {
			continue
		}
		_, err := toAnthropic(body(t, `{"model":"g","messages":[{"role":"user","content":"x"}],"`+k+`":null}`), "claude-sonnet-4-5", 10, false)
		if err != nil && strings.Contains(err.Message, "not supported") {
			t.Errorf("%s: %v", k, err)
		}
	}
}

// A json_schema response format is structured outputs' output_config.format
// where the deployment takes it and a forced tool would not serve (thinking
// on) or the schema is strict; otherwise, and for json_object, the forced
// tool, which every Claude takes.
func TestJSONSchemaAsStructuredOutputs(t *testing.T) {
	const schema = `{"type":"object","properties":{"a":{"type":"string"}}}`
	for _, tc := range []struct {
		name, params string
		formats      bool
		format       bool // output_config.format, else the forced tool
	}{
		{"thinking on", `"reasoning_effort":"low","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":` + schema + `}}`, true, true},
		{"strict", `"response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,"schema":` + schema + `}}`, true, true},
		{"neither", `"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":` + schema + `}}`, true, false},
		{"json_object", `"reasoning_effort":"low","response_format":{"type":"json_object"}`, true, false},
		{"a deployment without structured outputs", `"response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,"schema":` + schema + `}}`, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := toAnthropic(body(t, `{"model":"g","max_tokens":5000,"messages":[{"role":"user","content":"x"}],`+tc.params+`}`), "claude-sonnet-4-5", 10, tc.formats)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := json.Marshal(req.OutputConfig["format"])
			if tc.format != (string(f) == `{"schema":`+schema+`,"type":"json_schema"}`) || tc.format == req.jsonMode ||
				tc.format == slices.ContainsFunc(req.Tools, func(t anthropicTool) bool { return t.Name == jsonTool }) {
				t.Fatalf("output_config %v, JSON mode %v, tools %v", req.OutputConfig, req.jsonMode, req.Tools)
			}
		})
	}
}

// A Claude that takes no prefill (4.6 and later) is unfit for a request
// whose conversation ends with the assistant's message, in chat (system
// and developer messages aside: the translation moves them out of the
// conversation) and in Anthropic's own API; one that ends with the user's
// or a tool's result is fit, and so is any request to an earlier Claude.
func TestUnfitForAPrefill(t *testing.T) {
	for _, tc := range []struct {
		name, model, messages string
		unfit                 bool
	}{
		{"a prefill", "claude-opus-4-6", `[{"role":"user","content":"hi"},{"role":"assistant","content":"{"}]`, true},
		{"a prefill on Bedrock", "us.anthropic.claude-sonnet-4-6", `[{"role":"user","content":"hi"},{"role":"assistant","content":"{"}]`, true},
		{"a prefill before a system message", "claude-opus-4-8", `[{"role":"user","content":"hi"},{"role":"assistant","content":"{"},{"role":"system","content":"JSON"}]`, true},
		{"the user's last", "claude-opus-4-8", `[{"role":"assistant","content":"hi"},{"role":"user","content":"{"}]`, false},
		{"a tool's result last", "claude-opus-4-8", `[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[]},{"role":"tool","tool_call_id":"t","content":"ok"}]`, false},
		{"no assistant message", "claude-opus-4-8", `[{"role":"user","content":"the assistant"}]`, false},
		{"a prefill to Claude 4.5", "claude-sonnet-4-5", `[{"role":"user","content":"hi"},{"role":"assistant","content":"{"}]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &anthropic{d: config.Deployment{Model: tc.model}}
			why := p.Unfit(&Request{Op: Chat, Body: []byte(`{"model":"m","messages":` + tc.messages + `,"max_tokens":9}`)})
			if (why != "") != tc.unfit || tc.unfit && !strings.Contains(why, tc.model+" does not take a conversation that ends with an assistant message") {
				t.Fatalf("Unfit = %q, want unfit %v", why, tc.unfit)
			}
		})
	}
}

// A chat request's custom tool (OpenAI's free-form tools) is one no
// Anthropic deployment can take: it is passed over for one that can,
// not answered with a 400; a function tool, or the word in a prompt, is
// no reason.
func TestUnfitForACustomTool(t *testing.T) {
	p := &anthropic{d: config.Deployment{Model: "claude-sonnet-4-5"}}
	for body, want := range map[string]string{
		`{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}},{"type":"custom","custom":{"name":"apply_patch"}}]}`: "tools[1]: OpenAI's custom tools",
		`{"messages":[{"role":"user","content":"a \"custom\" tool"}],"tools":[{"type":"function","function":{"name":"custom"}}]}`:                               "",
	} {
		if why := p.Unfit(&Request{Op: Chat, Body: []byte(body)}); !strings.HasPrefix(why, want) || (want == "") != (why == "") {
			t.Errorf("Unfit(%s) = %q, want %q", body, why, want)
		}
	}
}

// A whole answer in which Claude declined the request says why; any
// other answer, one that merely mentions a refusal included, says nothing.
func TestRefusalOf(t *testing.T) {
	for data, want := range map[string]string{
		`{"content":[],"stop_reason":"refusal","stop_details":{"type":"refusal","category":"cyber","explanation":"It could enable cyber harm."}}`: "It could enable cyber harm.",
		`{"content":[],"stop_reason":"refusal","stop_details":{"type":"refusal","category":"bio","explanation":null}}`:                            "its safety classifiers declined it (bio)",
		`{"content":[],"stop_reason":"refusal","stop_details":null}`:                                                                              "its safety classifiers declined it",
		`{"content":[{"type":"text","text":"a \"refusal\" is ..."}],"stop_reason":"end_turn"}`:                                                    "",
	} {
		if got := refusalOf([]byte(data)); got != want {
			t.Errorf("refusalOf(%s) = %q, want %q", data, got, want)
		}
	}
}

// With thinking on, Claude wants its last assistant message, when it
// calls a tool, to start with the thinking that led to the call.
func TestThinkingLeadsToolUseIn(t *testing.T) {
	const (
		user    = `{"role":"user","content":"weather?"}`
		call    = `{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"w","input":{}}]}`
		led     = `{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"t1","name":"w","input":{}}]}`
		ledR    = `{"role":"assistant","content":[{"type":"redacted_thinking","data":"x"},{"type":"tool_use","id":"t1","name":"w","input":{}}]}`
		result  = `{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"sunny"}]}`
		answer  = `{"role":"assistant","content":"It is sunny."}`
		on      = `"thinking":{"type":"enabled","budget_tokens":2048},`
		adaptiv = `"thinking":{"type":"adaptive"},`
	)
	for _, tc := range []struct {
		name, thinking, messages string
		want                     bool
	}{
		{"thinking off", ``, user + "," + call + "," + result, true},
		{"thinking disabled", `"thinking":{"type":"disabled"},`, user + "," + call + "," + result, true},
		{"a call no thinking led", on, user + "," + call + "," + result, false},
		{"adaptive thinking, which may skip thinking, a call no thinking led", adaptiv, user + "," + call + "," + result, true},
		{"a call thinking led", on, user + "," + led + "," + result, true},
		{"a call redacted thinking led", on, user + "," + ledR + "," + result, true},
		{"the loop over, an answer last", on, user + "," + call + "," + result + "," + answer + "," + user, true},
		{"an earlier call no thinking led, the last led", on, user + "," + call + "," + result + "," + led + "," + result, true},
		{"no assistant message", on, user, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"model":"claude-sonnet-4-5","max_tokens":4096,` + tc.thinking + `"messages":[` + tc.messages + `]}`
			if got := thinkingLeadsToolUseIn([]byte(body)); got != tc.want {
				t.Fatalf("thinkingLeadsToolUseIn(%s) = %v, want %v", body, got, tc.want)
			}
		})
	}
}

// Claude Code's context management edit that clears thinking is refused
// without thinking on: it goes where thinking is off, and only it.
func TestWithoutClearThinking(t *testing.T) {
	const clear = `{"type":"clear_thinking_20251015","keep":{"type":"thinking_turns","value":1}}`
	const tools = `{"type":"clear_tool_uses_20250919"}`
	for _, tc := range []struct {
		name, in, want string
	}{
		{"thinking on", `{"thinking":{"type":"adaptive"},"context_management":{"edits":[` + clear + `]}}`, ``},
		{"thinking off, the edit alone", `{"context_management":{"edits":[` + clear + `]},"model":"m"}`, `{"model":"m"}`},
		{"thinking disabled, another edit", `{"context_management":{"edits":[` + clear + `,` + tools + `]},"thinking":{"type":"disabled"}}`,
			`{"context_management":{"edits":[` + tools + `]},"thinking":{"type":"disabled"}}`},
		{"no edit that clears thinking", `{"context_management":{"edits":[` + tools + `]}}`, ``},
		{"clear_thinking_ in a prompt only", `{"messages":[{"role":"user","content":"\"clear_thinking_ x"}]}`, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := cmp.Or(tc.want, tc.in)
			if got := string(withoutClearThinking([]byte(tc.in))); got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// BenchmarkThinkingLeadsToolUseIn checks a Claude Code session's body
// with budget thinking (170 KB, 40 tool loop turns), as each Messages
// request with a tool call and budget thinking is checked before it goes
// to Claude.
func BenchmarkThinkingLeadsToolUseIn(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"model":"claude-sonnet-4-5","max_tokens":32000,"thinking":{"type":"enabled","budget_tokens":31999},"messages":[`)
	for i := range 40 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"` + strings.Repeat("x", 4000) + `"}]},`)
		sb.WriteString(`{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"tool_use","id":"t","name":"f","input":{"a":1}}]}`)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !thinkingLeadsToolUseIn(body) {
			b.Fatal("the last tool call's thinking not found")
		}
	}
}

// The thinking blocks breakerd signed are left out of what Claude gets,
// and a message they were all of with them; Claude's own are kept.
func TestWithoutForeignThinking(t *testing.T) {
	const (
		user    = `{"role":"user","content":"q"}`
		ours    = `{"type":"thinking","thinking":"r","signature":"breakerd:reasoning"}`
		oursK   = `{"type":"thinking","thinking":"","signature":"breakerd:reasoning:e30="}`
		claudes = `{"type":"thinking","thinking":"r","signature":"EqQBCkYIBRgC"}`
		text    = `{"type":"text","text":"a"}`
	)
	for _, tc := range []struct{ name, messages, want string }{
		{"ours before text", user + `,{"role":"assistant","content":[` + ours + `,` + text + `]},` + user,
			`{"content":"q","role":"user"},{"content":[` + text + `],"role":"assistant"},{"content":"q","role":"user"}`},
		{"ours keeping signatures", user + `,{"role":"assistant","content":[` + oursK + `,` + text + `]}`,
			`{"content":"q","role":"user"},{"content":[` + text + `],"role":"assistant"}`},
		{"an answer of ours alone", user + `,{"role":"assistant","content":[` + ours + `]},` + user,
			`{"content":"q","role":"user"},{"content":"q","role":"user"}`},
		{"Claude's kept", user + `,{"role":"assistant","content":[` + claudes + `,` + text + `]}`, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"messages":[` + tc.messages + `],"model":"claude-sonnet-4-5"}`
			want := body
			if tc.want != "" {
				want = `{"messages":[` + tc.want + `],"model":"claude-sonnet-4-5"}`
			}
			if got := string(withoutForeignThinking([]byte(body))); got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}
