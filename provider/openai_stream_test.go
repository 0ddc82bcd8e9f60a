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
		{name: "a delta passes unchanged", chunk: `{"choices":[{"delta":{"content":"hi"}}]}`},
		{name: "usage is read", chunk: `{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}`,
			wantUsage: Usage{InputTokens: 7, OutputTokens: 3}},
		{name: "usage spaced out is read", chunk: "{ \"usage\" : { \"prompt_tokens\" : 2 , \"completion_tokens\" : 1 } }",
			wantUsage: Usage{InputTokens: 2, OutputTokens: 1}},
		{name: "usage null is none", chunk: `{"choices":[],"usage":null}`},
		{name: "the words inside text are text", chunk: `{"choices":[{"delta":{"content":"\"usage\" and \"error\""}}]}`},
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
