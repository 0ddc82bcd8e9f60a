package provider

import "testing"

func TestContextWindowExceeded(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want bool
	}{
		{"OpenAI's code", Error{Status: 400, Code: "context_length_exceeded", Message: "too many"}, true},
		{"vLLM's words", Error{Status: 400, Message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens."}, true},
		{"Anthropic's words", Error{Status: 400, Code: "invalid_request_error", Message: "prompt is too long: 210000 tokens > 200000 maximum"}, true},
		{"a 413 in the same words", Error{Status: 413, Message: "Prompt is too long"}, true},
		{"another 400", Error{Status: 400, Code: "invalid_value", Message: "temperature must be at most 2"}, false},
		{"a server error that mentions the context window", Error{Status: 500, Message: "context window service down"}, false},
		{"a transport error", Error{Message: "prompt is too long"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.ContextWindowExceeded(); got != tc.want {
				t.Fatalf("ContextWindowExceeded() = %v, want %v", got, tc.want)
			}
		})
	}
}
