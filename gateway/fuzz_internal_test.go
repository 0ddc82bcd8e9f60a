package gateway

import (
	"testing"

	"github.com/breakerd/breakerd/provider"
)

// Whatever a client sends, request parsing for each API names the model
// or says what is wrong; it never panics.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{`{"model":"g","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"g","input":"x"}`, `{"model":"g","max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, `{"model":"g","prompt":"x"}`,
		`{"model":1}`, `{"stream":"yes"}`, `[]`, `null`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, k := range []struct {
			op  provider.Operation
			api provider.API
		}{{provider.Chat, provider.APIChat}, {provider.Embeddings, provider.APIChat}, {provider.Chat, provider.APIResponses},
			{provider.Chat, provider.APIMessages}, {provider.Chat, provider.APICompletions}} {
			req, model, msg := parseRequest(k.op, k.api, []byte(body))
			if msg == "" && (req == nil || model == "" || req.Model != model) {
				t.Fatalf("%s/%s: accepted %q without a model", k.op, k.api, body)
			}
		}
	})
}
