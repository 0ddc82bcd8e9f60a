package gateway

import (
	"encoding/json"
	"testing"

	"github.com/breakerd/breakerd/provider"
)

// notePartial keeps the text a client got as JSON string content, as it
// came (escapes and all), and stops at what a continuation cannot carry
// on from: a tool call, another choice, a finish, a chunk it cannot read.
func TestNotePartial(t *testing.T) {
	chunk := func(s string) []byte { return provider.Frame("", []byte(s)) }
	for _, tc := range []struct {
		name   string
		frames [][]byte
		text   string
		ok     bool
	}{
		{"text, escapes kept", [][]byte{chunk(`{"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`),
			chunk(`{"id":"c1","choices":[{"index":0,"delta":{"content":"say \"hi\"\n"}}]}`), chunk(`{"id":"c1","choices":[{"index":0,"delta":{"content":"é"}}]}`)},
			`say \"hi\"\né`, true},
		{"reasoning is not text", [][]byte{chunk(`{"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}`)}, ``, true},
		{"a tool call", [][]byte{chunk(`{"choices":[{"index":0,"delta":{"content":"a"}}]}`), chunk(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0}]}}]}`)}, `a`, false},
		{"another choice", [][]byte{chunk(`{"choices":[{"index":1,"delta":{"content":"b"}}]}`)}, ``, false},
		{"a finish", [][]byte{chunk(`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`)}, ``, false},
		{"not JSON", [][]byte{chunk(`{"choices":`)}, ``, false},
		{"[DONE]", [][]byte{chunk(`[DONE]`)}, ``, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &call{}
			c.cont.ok = true
			for _, f := range tc.frames {
				if c.cont.ok {
					c.notePartial(f)
				}
			}
			if string(c.cont.text) != tc.text || c.cont.ok != tc.ok {
				t.Fatalf("text %q ok %v, want %q %v", c.cont.text, c.cont.ok, tc.text, tc.ok)
			}
			// The text, as kept, is a JSON string's content.
			var s string
			if err := json.Unmarshal([]byte(`"`+string(c.cont.text)+`"`), &s); err != nil {
				t.Fatalf("%q is no JSON string content: %v", c.cont.text, err)
			}
		})
	}
}
