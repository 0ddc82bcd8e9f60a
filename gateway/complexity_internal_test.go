package gateway

import (
	"testing"

	"github.com/breakerd/breakerd/provider"
)

// The complexity router reads each API's prompt: the last user message's
// text, and the system prompt.
func TestPromptOf(t *testing.T) {
	for _, tc := range []struct {
		name           string
		api            provider.API
		body           string
		prompt, system string
		ok             bool
	}{
		{"chat", provider.APIChat, `{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"first"},` +
			`{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"second"},{"type":"image_url","image_url":{"url":"x"}}]}]}`,
			"second", "be brief", true},
		{"chat, a developer message", provider.APIChat, `{"messages":[{"role":"developer","content":"terse"},{"role":"user","content":"q"}]}`, "q", "terse", true},
		{"chat, no user message", provider.APIChat, `{"messages":[{"role":"system","content":"x"}]}`, "", "", false},
		{"messages", provider.APIMessages, `{"system":[{"type":"text","text":"sys"}],"messages":[{"role":"user","content":[{"type":"text","text":"ask"}]}]}`,
			"ask", "sys", true},
		{"responses, a string", provider.APIResponses, `{"instructions":"ins","input":"just this"}`, "just this", "ins", true},
		{"responses, items", provider.APIResponses, `{"input":[{"role":"user","content":[{"type":"input_text","text":"an item"}]}]}`, "an item", "", true},
		{"completions", provider.APICompletions, `{"prompt":"complete me"}`, "complete me", "", true},
		{"not JSON", provider.APIChat, `{`, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prompt, system, ok := promptOf(tc.api, []byte(tc.body))
			if prompt != tc.prompt || system != tc.system || ok != tc.ok {
				t.Fatalf("%q %q %v, want %q %q %v", prompt, system, ok, tc.prompt, tc.system, tc.ok)
			}
		})
	}
}
