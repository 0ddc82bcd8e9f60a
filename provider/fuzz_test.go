package provider

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/config"
)

// drainAll reads a stream to its end, bounded: a stream that yielded more
// events than its input has bytes would be looping.
func drainAll(t *testing.T, s Stream, input int) {
	for n := 0; ; n++ {
		if n > input+10 {
			t.Fatalf("%d events from %d bytes: the stream does not end", n, input)
		}
		if _, err := s.Next(); err != nil {
			return
		}
	}
}

// Whatever an upstream streams, each of breakerd's stream readers (OpenAI
// chat, Anthropic translated to chat, native Responses and Messages
// relayed) ends with io.EOF or an error, and never panics.
func FuzzSSEStreams(f *testing.F) {
	for _, s := range []string{
		"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n",
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":1}}}\n\n" +
			"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\ndata: {\"type\":\"message_stop\"}\n\n",
		"data: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":1}}}\n\n",
		"data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}\n\n",
		"data: {\"error\":{\"message\":\"x\"}}\n\n", ": comment\r\ndata: a\r\ndata: b\r\n\r\n", "data: [DONE]", "",
	} {
		f.Add(s)
	}
	redact := func(s string) string { return s }
	f.Fuzz(func(t *testing.T, body string) {
		ctx := context.Background()
		rc := func() io.ReadCloser { return io.NopCloser(strings.NewReader(body)) }
		drainAll(t, newSSEStream(ctx, rc(), redact), len(body))
		drainAll(t, newAnthropicStream(ctx, rc(), "m", true, 0, redact), len(body))
		drainAll(t, newRawStream(ctx, rc(), APIMessages, redact), len(body))
		drainAll(t, newRawStream(ctx, rc(), APIResponses, redact), len(body))
		drainAll(t, newRawStream(ctx, rc(), APICompletions, redact), len(body))
	})
}

// Any chat request either translates to an Anthropic request that
// encodes, or is refused with a 400; any Anthropic answer translates to a
// chat completion. Neither way panics.
func FuzzAnthropicTranslation(f *testing.F) {
	f.Add(`{"model":"g","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]},{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"1","content":"r"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","response_format":{"type":"json_object"},"reasoning_effort":"low"}`,
		`{"id":"m","content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t","name":"json_tool_call","input":{"a":1}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}`)
	f.Add(`{"model":"g","messages":[]}`, `{}`)
	f.Add(`{"messages":[{"role":"user","content":null}],"stop":"x","n":2}`, `{"content":null}`)
	f.Fuzz(func(t *testing.T, chat, answer string) {
		var fields map[string]json.RawMessage
		// Each Claude generation's rules (config.ClaudeOf), and a model
		// the table does not know.
		for _, model := range []string{"m", "claude-opus-4-7", "claude-sonnet-4-5", "claude-sonnet-4-6", "claude-3-5-haiku"} {
			if json.Unmarshal([]byte(chat), &fields) == nil {
				req, err := toAnthropic(fields, model, 100, model != "m")
				if err != nil && err.Status != 400 {
					t.Fatalf("refused with %d, want 400: %v", err.Status, err)
				}
				if err == nil {
					if _, jerr := json.Marshal(req); jerr != nil {
						t.Fatalf("translated request does not encode: %v", jerr)
					}
				}
			}
			// The same body as a Messages request to the model: checked
			// and fitted, it stays JSON or is refused with a 400.
			p := &anthropic{d: config.Deployment{Model: model}}
			p.Unsupported(&Request{Op: Chat, API: APIMessages, Body: []byte(chat)})
			p.Unfit(&Request{Op: Chat, API: APIMessages, Body: []byte(chat)})
			if out, err := fitClaude(model, []byte(chat)); err == nil && !json.Valid(out) && json.Valid([]byte(chat)) {
				t.Fatalf("fitted to %s, the body is no longer JSON: %s", model, out)
			} else if e, ok := err.(*Error); err != nil && (!ok || e.Status != 400) {
				t.Fatalf("fitClaude: %v, want a 400", err)
			}
		}
		var ar anthropicResponse
		if json.Unmarshal([]byte(answer), &ar) == nil {
			for _, jsonMode := range []bool{false, true} {
				if _, err := json.Marshal(fromAnthropic(&ar, "m", 0, jsonMode)); err != nil {
					t.Fatalf("translated answer does not encode: %v", err)
				}
			}
		}
	})
}

// A chat request translated for the Responses API is JSON or a 400; an
// answer or a stream event translated back is JSON or an error, never a
// panic.
func FuzzResponsesTranslation(f *testing.F) {
	f.Add(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":"https://x"}]},{"role":"assistant","tool_calls":[{"id":"1","type":"custom","custom":{"name":"p","input":"i"}}]},{"role":"tool","tool_call_id":"1","content":"r"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"tools":[{"type":"function","function":{"name":"f"}}]}},"response_format":{"type":"json_schema","json_schema":{"name":"r"}}}`,
		`{"id":"resp_1","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"function_call","call_id":"c","name":"f","arguments":"{}"}],"usage":{"input_tokens":1}}`)
	f.Add(`{"messages":[{"role":"x"}],"tools":[{"type":"function"}]}`, `{"type":"response.output_item.added","output_index":3,"item":{"type":"custom_tool_call"}}`)
	f.Add(`{"messages":null,"tool_choice":"auto"}`, `{"type":"response.failed","response":{"error":null}}`)
	f.Fuzz(func(t *testing.T, chat, answer string) {
		if out, err := chatToResponses([]byte(chat)); err == nil && !json.Valid(out) {
			t.Fatalf("translated request is not JSON: %s", out)
		} else if err != nil && err.Status != 400 {
			t.Fatalf("refused with %d, want 400", err.Status)
		}
		if out, _, err := responseToChat([]byte(answer)); err == nil && !json.Valid(out) {
			t.Fatalf("translated answer is not JSON: %s", out)
		}
		s := newResponsesChatStream(context.Background(), io.NopCloser(strings.NewReader("")), true, "m", func(s string) string { return s })
		if s.translate([]byte(answer)) == nil {
			for _, c := range s.pending {
				if !json.Valid(c) {
					t.Fatalf("chunk is not JSON: %s", c)
				}
			}
		}
	})
}
