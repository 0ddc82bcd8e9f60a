package provider

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// A chat stream's chunks are passed on as sent; usage and error chunks are
// read whichever way they are written, including when the words appear
// only inside a chunk's text.
func TestChatStreamChunks(t *testing.T) {
	redact := strings.NewReplacer("sk-secret", "[REDACTED]").Replace
	for _, tc := range []struct {
		name      string
		chunk     string
		wantErr   string // substring of the error; "" for a chunk passed on
		wantUsage Usage
	}{
		{name: "a delta passes unchanged, counted", chunk: `{"choices":[{"delta":{"content":"hi"}}]}`, wantUsage: Usage{Deltas: 1, DeltaChars: 2}},
		{name: "usage is read", chunk: `{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}`,
			wantUsage: Usage{InputTokens: 7, OutputTokens: 3}},
		{name: "usage spaced out is read", chunk: "{ \"usage\" : { \"prompt_tokens\" : 2 , \"completion_tokens\" : 1 } }",
			wantUsage: Usage{InputTokens: 2, OutputTokens: 1}},
		{name: "usage null is none", chunk: `{"choices":[],"usage":null}`},
		{name: "the words inside text are text", chunk: `{"choices":[{"delta":{"content":"\"usage\" and \"error\""}}]}`, wantUsage: Usage{Deltas: 1, DeltaChars: 19}},
		{name: "an error chunk breaks the stream, redacted", chunk: `{"error":{"message":"bad key sk-secret","type":"server_error"}}`,
			wantErr: "upstream stream error: bad key [REDACTED]"},
		{name: "invalid JSON breaks the stream", chunk: `{"choices":[`, wantErr: "invalid stream chunk"},
		{name: "invalid JSON without either word breaks it too", chunk: `{"a":1}}`, wantErr: "invalid stream chunk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := "data: " + tc.chunk + "\n\ndata: [DONE]\n\n"
			s := newSSEStream(context.Background(), io.NopCloser(strings.NewReader(body)), redact)
			got, err := s.Next()
			if tc.wantErr != "" {
				var perr *Error
				if !errors.As(err, &perr) || !strings.Contains(perr.Message, tc.wantErr) {
					t.Fatalf("Next() = %q, %v; want an *Error with %q", got, err, tc.wantErr)
				}
				if strings.Contains(perr.Message, "sk-secret") {
					t.Fatalf("error message holds the secret: %q", perr.Message)
				}
				return
			}
			if err != nil || string(got) != tc.chunk {
				t.Fatalf("Next() = %q, %v; want the chunk as sent", got, err)
			}
			if _, err := s.Next(); !errors.Is(err, io.EOF) {
				t.Fatalf("after [DONE]: %v, want io.EOF", err)
			}
			if s.Usage() != tc.wantUsage {
				t.Fatalf("Usage() = %+v, want %+v", s.Usage(), tc.wantUsage)
			}
		})
	}
}

// Native Messages and Responses streams pass each event through with its
// name; only the events that carry usage, an error or the end are decoded.
func TestNativeStreamEvents(t *testing.T) {
	redact := strings.NewReplacer("sk-secret", "[REDACTED]").Replace
	for _, tc := range []struct {
		name      string
		api       API
		events    []string
		wantFrame string // the first event's frame; "" when it is an error
		wantErr   string
		wantCode  int // the error's status
		wantUsage Usage
		wantEnd   bool // the stream ends after the events
	}{
		{name: "a delta passes with its name, counted", api: APIMessages,
			events:    []string{`{"type":"content_block_delta","delta":{"type":"text_delta","text":"hi"}}`},
			wantFrame: "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n", wantUsage: Usage{Deltas: 1, DeltaChars: 2}},
		{name: "message_start and message_delta carry usage, message_stop ends", api: APIMessages,
			events: []string{`{"type":"message_start","message":{"usage":{"input_tokens":9,"output_tokens":1}}}`,
				`{"type":"message_delta","usage":{"output_tokens":4}}`, `{"type":"message_stop"}`},
			wantFrame: "event: message_start\n", wantUsage: Usage{InputTokens: 9, OutputTokens: 4}, wantEnd: true},
		{name: "response.completed carries usage and ends", api: APIResponses,
			events:    []string{`{"type":"response.completed","response":{"usage":{"input_tokens":3,"output_tokens":2}}}`},
			wantFrame: "event: response.completed\n", wantUsage: Usage{InputTokens: 3, OutputTokens: 2}, wantEnd: true},
		{name: "an overloaded error event is a 529, redacted", api: APIMessages,
			events:  []string{`{"type":"error","error":{"type":"overloaded_error","message":"busy sk-secret"}}`},
			wantErr: "upstream stream error: busy [REDACTED]", wantCode: 529},
		{name: "the Responses API's error event, its code and message at its top", api: APIResponses,
			events:  []string{`{"type":"error","code":"server_is_overloaded","message":"Our servers are currently overloaded. sk-secret","param":null,"sequence_number":7}`},
			wantErr: "upstream stream error: Our servers are currently overloaded. [REDACTED]", wantCode: 503},
		{name: "a Responses error event of another code", api: APIResponses,
			events:  []string{`{"type":"error","code":"server_error","message":"An error occurred while processing your request.","param":null}`},
			wantErr: "upstream stream error: An error occurred while processing your request.", wantCode: 502},
		{name: "an event without a type is invalid", api: APIMessages, events: []string{`{"delta":{}}`}, wantErr: "invalid stream event"},
		{name: "a type that is not a string is invalid", api: APIResponses, events: []string{`{"type":5}`}, wantErr: "invalid stream event"},
		{name: "a type with a line break is invalid", api: APIResponses, events: []string{`{"type":"a\ndata: x"}`}, wantErr: "invalid stream event"},
		{name: "legacy completions pass as data, usage read", api: APICompletions,
			events:    []string{`{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":6}}`, `[DONE]`},
			wantFrame: "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}\n\n", wantUsage: Usage{InputTokens: 5, OutputTokens: 6}, wantEnd: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body strings.Builder
			for _, e := range tc.events {
				body.WriteString("data: " + e + "\n\n")
			}
			s := newRawStream(context.Background(), io.NopCloser(strings.NewReader(body.String())), tc.api, redact)
			first, err := s.Next()
			if tc.wantErr != "" {
				var perr *Error
				if !errors.As(err, &perr) || !strings.Contains(perr.Message, tc.wantErr) {
					t.Fatalf("Next() = %q, %v; want an *Error with %q", first, err, tc.wantErr)
				}
				if tc.wantCode != 0 && perr.Status != tc.wantCode {
					t.Fatalf("status %d, want %d", perr.Status, tc.wantCode)
				}
				return
			}
			if err != nil || !strings.HasPrefix(string(first), tc.wantFrame) {
				t.Fatalf("Next() = %q, %v; want a frame starting %q", first, err, tc.wantFrame)
			}
			n := 1
			for ; ; n++ {
				if _, err = s.Next(); err != nil {
					break
				}
			}
			if tc.wantEnd != errors.Is(err, io.EOF) || (tc.wantEnd && n != len(tc.events)) {
				t.Fatalf("after %d events: %v (want the clean end: %v)", n, err, tc.wantEnd)
			}
			if s.Usage() != tc.wantUsage {
				t.Fatalf("Usage() = %+v, want %+v", s.Usage(), tc.wantUsage)
			}
		})
	}
}
