package provider

import "testing"

func TestRefusal(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"OpenAI's context code", Error{Status: 400, Code: "context_length_exceeded", Message: "too many"}, ContextWindow},
		{"vLLM's words", Error{Status: 400, Message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens."}, ContextWindow},
		{"Anthropic's words", Error{Status: 400, Code: "invalid_request_error", Message: "prompt is too long: 210000 tokens > 200000 maximum"}, ContextWindow},
		{"a 413 in the same words", Error{Status: 413, Message: "Prompt is too long"}, ContextWindow},
		{"OpenAI's policy code", Error{Status: 400, Code: "content_policy_violation", Message: "rejected"}, ContentPolicy},
		{"Azure's content filter", Error{Status: 400, Code: "content_filter", Message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."}, ContentPolicy},
		{"Anthropic's words", Error{Status: 400, Message: "Output blocked by content filtering policy"}, ContentPolicy},
		{"another 400", Error{Status: 400, Code: "invalid_value", Message: "temperature must be at most 2"}, ""},
		{"a server error in the same words", Error{Status: 500, Message: "context window service down"}, ""},
		{"a transport error", Error{Message: "prompt is too long"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Refusal(); got != tc.want {
				t.Fatalf("Refusal() = %q, want %q", got, tc.want)
			}
		})
	}
}
