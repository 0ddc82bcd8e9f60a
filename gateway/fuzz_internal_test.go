package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/breakerd/breakerd/provider"
)

// Whatever a client sends, request parsing for each API names the model
// or says what is wrong; it never panics.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{`{"model":"g","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"g","input":"x"}`, `{"model":"g","max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, `{"model":"g","prompt":"x"}`,
		`{"model":1}`, `{"stream":"yes"}`, `[]`, `null`, ``,
		`{"model":"m\u00e9","stream":null,"messages":[1]}`, `{"model":"a","model":"b","stream":false,"stream":true,"messages":[1]}`,
		`{"Model":"x","model":"y","messages":[1]}`, "{\"model\":\"\xff\",\"messages\":[1]}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, k := range []struct {
			op  provider.Operation
			api provider.API
		}{{provider.Chat, provider.APIChat}, {provider.Embeddings, provider.APIChat}, {provider.Chat, provider.APIResponses},
			{provider.Chat, provider.APIMessages}, {provider.Chat, provider.APICompletions}} {
			req, model, msg := parseBody(k.op, k.api, []byte(body), &clientRouting{})
			if msg == "" && (req == nil || model == "" || req.Model != model) {
				t.Fatalf("%s/%s: accepted %q without a model", k.op, k.api, body)
			}
		}
		readsAsUnmarshal(t, body)
	})
}

// readsAsUnmarshal fails t unless parseBody reads a chat request's
// model and stream as json.Unmarshal into a struct of them does: the
// same requests accepted for them, the same values. A body with a key
// that only case-folds to one of theirs is not compared: json.Unmarshal
// matches it, parseBody (as the upstream APIs) does not.
func readsAsUnmarshal(t *testing.T, body string) {
	folded := false
	provider.EachField([]byte(body), func(k, _ []byte) {
		for _, n := range []string{"model", "stream"} {
			folded = folded || (string(k) != n && strings.EqualFold(string(k), n))
		}
	})
	var want struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	obj := strings.HasPrefix(strings.TrimLeft(body, " \t\r\n"), "{")
	if folded || !obj || json.Unmarshal([]byte(body), &want) != nil {
		return // not an object, or not model and stream of the right types: some other check refuses it
	}
	req, model, msg := parseBody(provider.Chat, provider.APIChat, []byte(body), &clientRouting{})
	switch {
	case want.Model == "" && msg == "":
		t.Fatalf("%q: accepted with model %q, json.Unmarshal reads none", body, model)
	case want.Model != "" && msg == "" && (model != want.Model || req.Stream != want.Stream):
		t.Fatalf("%q: model %q stream %v, json.Unmarshal %q %v", body, model, req.Stream, want.Model, want.Stream)
	case want.Model != "" && (strings.Contains(msg, "model") || strings.Contains(msg, "stream must")):
		t.Fatalf("%q: refused (%s), json.Unmarshal reads model %q stream %v", body, msg, want.Model, want.Stream)
	}
}
