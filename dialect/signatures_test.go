package dialect

import (
	"strings"
	"testing"
)

// A thought signature a chat client got in a tool call's id is cut off
// the id, in the assistant's call and in the tool message that answers
// it, and given back in the call's extra_content only where the model
// wants it (keep) and the call has none of its own.
func TestSignaturesFromIDs(t *testing.T) {
	msgs := func(call, tool string) string {
		return `{"model":"m","messages":[{"role":"assistant","tool_calls":[` + call + `]},{"role":"tool","tool_call_id":"` + tool + `","content":"ok"}]}`
	}
	signed := `{"id":"call_1__thought__c2ln","type":"function","function":{"name":"f","arguments":"{}"}}`
	for _, tc := range []struct {
		name, body string
		keep       bool
		want       []string // each in the body out
		not        []string // none in it
	}{
		{"kept for a model that wants it", msgs(signed, "call_1__thought__c2ln"), true,
			[]string{`"id":"call_1"`, `"tool_call_id":"call_1"`, `"extra_content":{"google":{"thought_signature":"c2ln"}}`}, []string{"__thought__"}},
		{"cut off for another", msgs(signed, "call_1__thought__c2ln"), false,
			[]string{`"id":"call_1"`, `"tool_call_id":"call_1"`}, []string{"__thought__", "extra_content"}},
		{"the call's own signature stays", msgs(`{"id":"call_1__thought__c2ln","extra_content":{"google":{"thought_signature":"own"}}}`, "call_1"), true,
			[]string{`"thought_signature":"own"`, `"id":"call_1"`}, []string{"c2ln"}},
		{"no signature in any id", msgs(`{"id":"call_1"}`, "call_1"), true, []string{`"id":"call_1"`}, []string{"extra_content"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := string(SignaturesFromIDs([]byte(tc.body), tc.keep))
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Fatalf("%s lacks %s", out, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Fatalf("%s holds %s", out, n)
				}
			}
		})
	}
}
