package dialect

import (
	"encoding/json"
	"slices"
	"testing"
)

// A Messages request's thinking reaches a chat deployment as the
// reasoning_effort it stands for, an optional parameter (sent only where
// taken): adaptive thinking's effort, or a budget's on LiteLLM's scale;
// none for no thinking, or adaptive thinking at the model's default.
func TestThinkingAsReasoningEffort(t *testing.T) {
	for _, tc := range []struct{ params, want string }{
		{`"thinking":{"type":"enabled","budget_tokens":1024}`, "low"},
		{`"thinking":{"type":"enabled","budget_tokens":2048}`, "medium"},
		{`"thinking":{"type":"enabled","budget_tokens":31999}`, "high"},
		{`"thinking":{"type":"adaptive"},"output_config":{"effort":"low"}`, "low"},
		{`"thinking":{"type":"adaptive"},"output_config":{"effort":"max"}`, "high"},
		{`"thinking":{"type":"adaptive"}`, ""},
		{`"thinking":{"type":"disabled"}`, ""},
		{`"output_config":{"effort":"high"}`, ""},
	} {
		t.Run(tc.params, func(t *testing.T) {
			out, err := MessagesToChat([]byte(`{"model":"m","max_tokens":40000,"messages":[{"role":"user","content":"hi"}],` + tc.params + `}`))
			if err != nil {
				t.Fatal(err)
			}
			var chat struct {
				ReasoningEffort string `json:"reasoning_effort"`
			}
			if json.Unmarshal(out.Chat, &chat); chat.ReasoningEffort != tc.want || slices.Contains(out.Optional, "reasoning_effort") != (tc.want != "") {
				t.Fatalf("reasoning_effort %q, optional %v; want %q", chat.ReasoningEffort, out.Optional, tc.want)
			}
		})
	}
}
