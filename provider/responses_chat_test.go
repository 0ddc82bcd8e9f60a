package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// A chat request reaches a model of the Responses API alone as that API
// has it: messages as input items (tool calls and their outputs as call
// items), tools with their fields lifted out (not strict unless they say
// so), the response format as text.format, the token limit as
// max_output_tokens, the effort as reasoning.effort.
func TestChatToResponses(t *testing.T) {
	for _, tc := range []struct {
		name, chat, want string
	}{
		{"a plain request",
			`{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"temperature":0.2,"stream":true,"stream_options":{"include_usage":true}}`,
			`{"model":"m","store":false,"input":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"temperature":0.2,"stream":true}`},
		{"parts: text, an image, a file",
			`{"messages":[{"role":"user","content":[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"https://x/i.png","detail":"low"}},{"type":"file","file":{"file_id":"file-1"}}]}]}`,
			`{"store":false,"input":[{"role":"user","content":[{"type":"input_text","text":"see"},{"type":"input_image","image_url":"https://x/i.png","detail":"low"},{"type":"input_file","file_id":"file-1"}]}]}`},
		{"a tool loop",
			`{"messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"w","arguments":"{}"}},{"id":"c2","type":"custom","custom":{"name":"apply_patch","input":"*** Begin"}}]},` +
				`{"role":"tool","tool_call_id":"c1","content":"sunny"},{"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"done"}]}]}`,
			`{"store":false,"input":[{"role":"user","content":"weather?"},{"type":"function_call","call_id":"c1","name":"w","arguments":"{}"},{"type":"custom_tool_call","call_id":"c2","name":"apply_patch","input":"*** Begin"},` +
				`{"type":"function_call_output","call_id":"c1","output":"sunny"},{"type":"custom_tool_call_output","call_id":"c2","output":"done"}]}`},
		{"tools and a named choice",
			`{"messages":[],"tools":[{"type":"function","function":{"name":"w","parameters":{"type":"object"}}},{"type":"function","function":{"name":"s","strict":true,"parameters":{"type":"object"}}},{"type":"custom","custom":{"name":"apply_patch"}}],` +
				`"tool_choice":{"type":"function","function":{"name":"w"}},"parallel_tool_calls":false}`,
			`{"store":false,"input":[],"tools":[{"type":"function","name":"w","strict":false,"parameters":{"type":"object"}},{"type":"function","name":"s","strict":true,"parameters":{"type":"object"}},{"type":"custom","name":"apply_patch"}],` +
				`"tool_choice":{"type":"function","name":"w"},"parallel_tool_calls":false}`},
		{"a tool without parameters, and a choice by word",
			`{"messages":[],"tools":[{"type":"function","function":{"name":"now"}}],"tool_choice":"required"}`,
			`{"store":false,"input":[],"tools":[{"type":"function","name":"now","strict":false,"parameters":{"type":"object","properties":{}}}],"tool_choice":"required"}`},
		{"allowed tools",
			`{"messages":[],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"w"}}]}}}`,
			`{"store":false,"input":[],"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"w"}]}}`},
		{"format, limit, effort, verbosity",
			`{"messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"},"strict":true}},"max_completion_tokens":99,"reasoning_effort":"high","verbosity":"low","n":1,"store":true}`,
			`{"store":false,"input":[],"text":{"format":{"type":"json_schema","name":"r","schema":{"type":"object"},"strict":true},"verbosity":"low"},"max_output_tokens":99,"reasoning":{"effort":"high"}}`},
		{"JSON mode, and a limit below the API's least (16)", `{"messages":[],"response_format":{"type":"json_object"},"max_tokens":5}`,
			`{"store":false,"input":[],"text":{"format":{"type":"json_object"}},"max_output_tokens":16}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chatToResponses([]byte(tc.chat))
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			_ = json.Unmarshal(got, &g)
			_ = json.Unmarshal([]byte(tc.want), &w)
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	for _, bad := range []string{`{"messages":[{"role":"function","content":"x"}]}`, `{"messages":[{"role":"user","content":[{"type":"input_audio"}]}]}`, `[1]`} {
		if _, err := chatToResponses([]byte(bad)); err == nil || err.Status != 400 {
			t.Errorf("%s: error %v, want a 400", bad, err)
		}
	}
}

// A Responses API answer reaches a chat client as a chat completion: its
// text as content, a refusal as refusal, its calls as tool_calls, its
// reasoning's summary as reasoning_content, its end as finish_reason, its
// usage in chat's names.
func TestResponseToChat(t *testing.T) {
	const usage = `"usage":{"input_tokens":10,"output_tokens":4,"input_tokens_details":{"cached_tokens":6},"output_tokens_details":{"reasoning_tokens":2}}`
	for _, tc := range []struct {
		name, answer string
		message      map[string]any
		finish       string
	}{
		{"text and reasoning", `{"id":"resp_1","created_at":7,"model":"m","status":"completed","output":[{"type":"reasoning","summary":[{"type":"summary_text","text":"thought"}]},` +
			`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]}],` + usage + `}`,
			map[string]any{"role": "assistant", "content": "hi", "refusal": nil, "reasoning_content": "thought"}, "stop"},
		{"calls", `{"id":"resp_2","status":"completed","output":[{"type":"function_call","call_id":"c1","name":"w","arguments":"{}"},{"type":"custom_tool_call","call_id":"c2","name":"p","input":"x"}],` + usage + `}`,
			map[string]any{"role": "assistant", "content": nil, "refusal": nil, "tool_calls": []any{
				map[string]any{"id": "c1", "type": "function", "function": map[string]any{"name": "w", "arguments": "{}"}},
				map[string]any{"id": "c2", "type": "custom", "custom": map[string]any{"name": "p", "input": "x"}}}}, "tool_calls"},
		{"a refusal", `{"id":"resp_3","status":"completed","output":[{"type":"message","content":[{"type":"refusal","refusal":"no"}]}],` + usage + `}`,
			map[string]any{"role": "assistant", "content": nil, "refusal": "no"}, "stop"},
		{"cut at its limit", `{"id":"resp_4","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","content":[{"type":"output_text","text":"hal"}]}],` + usage + `}`,
			map[string]any{"role": "assistant", "content": "hal", "refusal": nil}, "length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, u, err := responseToChat([]byte(tc.answer))
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				ID      string `json:"id"`
				Object  string `json:"object"`
				Choices []struct {
					Message      map[string]any `json:"message"`
					FinishReason string         `json:"finish_reason"`
				} `json:"choices"`
				Usage map[string]any `json:"usage"`
			}
			if err := json.Unmarshal(out, &c); err != nil || c.Object != "chat.completion" || len(c.Choices) != 1 || c.ID == "" {
				t.Fatalf("%v: %s", err, out)
			}
			if !reflect.DeepEqual(c.Choices[0].Message, tc.message) || c.Choices[0].FinishReason != tc.finish {
				t.Fatalf("message %v (%s), want %v (%s)", c.Choices[0].Message, c.Choices[0].FinishReason, tc.message, tc.finish)
			}
			if u != (Usage{InputTokens: 10, OutputTokens: 4, CacheReadTokens: 6}) || c.Usage["prompt_tokens"] != 10.0 ||
				c.Usage["completion_tokens_details"].(map[string]any)["reasoning_tokens"] != 2.0 {
				t.Fatalf("usage %+v, %v", u, c.Usage)
			}
		})
	}
	if _, _, err := responseToChat([]byte(`{"output":`)); err == nil || err.Status != 502 {
		t.Fatalf("invalid JSON: %v", err)
	}
}

// A Responses API stream reaches a chat client as chat chunks: the role
// first, text, reasoning summary and tool calls as deltas (a call's
// arguments under its index), then the finish reason and, when asked,
// the usage; a failed response or a stream cut short is an error.
func TestResponsesChatStream(t *testing.T) {
	sse := func(events ...string) io.ReadCloser {
		var b strings.Builder
		for _, e := range events {
			b.WriteString("event: x\ndata: " + e + "\n\n")
		}
		return io.NopCloser(strings.NewReader(b.String()))
	}
	s := newResponsesChatStream(context.Background(), sse(
		`{"type":"response.created","response":{"id":"resp_9","created_at":5,"model":"gpt-5.1-codex"}}`,
		`{"type":"response.reasoning_summary_text.delta","delta":"hmm"}`,
		`{"type":"response.output_text.delta","delta":"Hi"}`,
		`{"type":"response.output_item.added","output_index":2,"item":{"type":"function_call","call_id":"c1","name":"w","arguments":""}}`,
		`{"type":"response.function_call_arguments.delta","output_index":2,"delta":"{\"a\""}`,
		`{"type":"response.function_call_arguments.delta","output_index":2,"delta":":1}"}`,
		`{"type":"response.completed","response":{"status":"completed","usage":{"input_tokens":3,"output_tokens":2}}}`,
	), true, "m", func(s string) string { return s })
	var deltas []string
	var finish string
	var usage map[string]any
	for _, b := range readChunks(t, s) {
		var c struct {
			ID      string `json:"id"`
			Model   string `json:"model"`
			Choices []struct {
				Delta        json.RawMessage `json:"delta"`
				FinishReason *string         `json:"finish_reason"`
			} `json:"choices"`
			Usage map[string]any `json:"usage"`
		}
		if err := json.Unmarshal(b, &c); err != nil || c.ID != "chatcmpl-9" || c.Model != "gpt-5.1-codex" {
			t.Fatalf("%v: chunk %s", err, b)
		}
		for _, ch := range c.Choices {
			deltas = append(deltas, string(ch.Delta))
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
		if c.Usage != nil {
			usage = c.Usage
		}
	}
	want := []string{`{"content":"","role":"assistant"}`, `{"reasoning_content":"hmm"}`, `{"content":"Hi"}`,
		`{"tool_calls":[{"function":{"arguments":"","name":"w"},"id":"c1","index":0,"type":"function"}]}`,
		`{"tool_calls":[{"function":{"arguments":"{\"a\""},"index":0}]}`, `{"tool_calls":[{"function":{"arguments":":1}"},"index":0}]}`, `{}`}
	if !reflect.DeepEqual(deltas, want) || finish != "tool_calls" || usage["total_tokens"] != 5.0 || s.Usage() != (Usage{InputTokens: 3, OutputTokens: 2}) {
		t.Fatalf("deltas %q, finish %q, usage %v / %+v", deltas, finish, usage, s.Usage())
	}
	// A call whose arguments come whole, with no deltas (as some servers
	// send them), goes as one delta; one streamed is not sent again.
	s = newResponsesChatStream(context.Background(), sse(
		`{"type":"response.created","response":{"id":"resp_2"}}`,
		`{"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","call_id":"c1","name":"w","arguments":""}}`,
		`{"type":"response.output_item.done","output_index":0,"item":{"type":"function_call","call_id":"c1","name":"w","arguments":"{\"a\":1}"}}`,
		`{"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","call_id":"c2","name":"v","arguments":""}}`,
		`{"type":"response.function_call_arguments.delta","output_index":1,"delta":"{}"}`,
		`{"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","call_id":"c2","name":"v","arguments":"{}"}}`,
		`{"type":"response.completed","response":{"status":"completed"}}`,
	), false, "m", func(s string) string { return s })
	var args []string
	for _, b := range readChunks(t, s) {
		var c struct {
			Choices []struct {
				Delta struct {
					ToolCalls []struct {
						Index    int
						Function struct{ Arguments *string }
					} `json:"tool_calls"`
				}
			}
		}
		_ = json.Unmarshal(b, &c)
		for _, ch := range c.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				if a := tc.Function.Arguments; a != nil && *a != "" {
					args = append(args, fmt.Sprintf("%d:%s", tc.Index, *a))
				}
			}
		}
	}
	if want := []string{`0:{"a":1}`, `1:{}`}; !reflect.DeepEqual(args, want) {
		t.Fatalf("arguments %q, want %q", args, want)
	}
	for name, body := range map[string]io.ReadCloser{
		"failed": sse(`{"type":"response.created","response":{"id":"resp_1"}}`, `{"type":"response.failed","response":{"error":{"code":"server_error","message":"boom"}}}`),
		"cut":    sse(`{"type":"response.created","response":{"id":"resp_1"}}`, `{"type":"response.output_text.delta","delta":"Hi"}`),
	} {
		s := newResponsesChatStream(context.Background(), body, false, "m", func(s string) string { return s })
		var err error
		for err == nil {
			_, err = s.Next()
		}
		if err == io.EOF {
			t.Errorf("%s: the stream ended well", name)
		}
	}
}

// Each assistant message's first tool call reaches Gemini 3 with a thought
// signature: its own as it came, else Google's stand-in, beside what else
// its extra_content holds.
func TestWithThoughtSignatures(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"a call without one",
			`{"messages":[{"role":"assistant","tool_calls":[{"id":"a","function":{"name":"f"}},{"id":"b","function":{"name":"g"}}]}]}`,
			`{"messages":[{"role":"assistant","tool_calls":[{"id":"a","function":{"name":"f"},"extra_content":{"google":{"thought_signature":"skip_thought_signature_validator"}}},{"id":"b","function":{"name":"g"}}]}]}`},
		{"its own kept", `{"messages":[{"role":"assistant","tool_calls":[{"id":"a","extra_content":{"google":{"thought_signature":"sig"}}}]}]}`,
			`{"messages":[{"role":"assistant","tool_calls":[{"id":"a","extra_content":{"google":{"thought_signature":"sig"}}}]}]}`},
		{"other extra content kept", `{"messages":[{"role":"assistant","tool_calls":[{"id":"a","extra_content":{"x":1,"google":{"y":2}}}]}]}`,
			`{"messages":[{"role":"assistant","tool_calls":[{"id":"a","extra_content":{"x":1,"google":{"y":2,"thought_signature":"skip_thought_signature_validator"}}}]}]}`},
		{"no calls", `{"messages":[{"role":"user","content":"tool_calls"}]}`, `{"messages":[{"role":"user","content":"tool_calls"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g, w any
			got := withThoughtSignatures([]byte(tc.body))
			_ = json.Unmarshal(got, &g)
			_ = json.Unmarshal([]byte(tc.want), &w)
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// readChunks reads a stream to its end, failing t on an error.
func readChunks(t *testing.T, s Stream) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		b, err := s.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}
