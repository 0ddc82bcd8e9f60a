package provider

import (
	"encoding/json"
	"strings"
	"testing"
)

// The files an answer cites or found (an annotation's, a file_search
// call's results, a search result's), at any depth and however the JSON
// is spaced, reach clients under the ids breakerd gives them; ids that
// are not the upstream's own files' are kept.
func TestAnswersCiteFilesByTheIDsClientsGet(t *testing.T) {
	s := storedIDs{provider: "openai", deployment: "b"}
	enc := EncodeFileID("openai", "b", "file-abc")
	for _, tc := range []struct{ name, in, want string }{
		{"an annotation, pretty-printed", `{"annotations": [{"type": "file_citation", "file_id": "file-abc", "index": 3}]}`,
			`{"annotations": [{"type": "file_citation", "file_id": "` + enc + `", "index": 3}]}`},
		{"a file_search call's results, deep", `{"output":[{"type":"file_search_call","results":[{"file_id":"file-abc","score":1}]}]}`,
			`{"output":[{"type":"file_search_call","results":[{"file_id":"` + enc + `","score":1}]}]}`},
		{"already breakerd's", `{"file_id":"` + enc + `"}`, `{"file_id":"` + enc + `"}`},
		{"not a file's id", `{"file_id":null,"text":"\"file_id\": \"x\""}`, `{"file_id":null,"text":"\"file_id\": \"x\""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(s.fileRefs([]byte(tc.in))); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	// A stream's annotation event, and a stored response's whole body.
	ev := s.event([]byte(`{"type":"response.output_text.annotation.added","annotation":{"type":"file_citation","file_id":"file-abc"}}`))
	body := s.object([]byte(`{"id":"resp_1","output":[{"type":"message","content":[{"type":"output_text","annotations":[{"file_id":"file-abc"}]}]}]}`))
	for _, b := range [][]byte{ev, body} {
		if !strings.Contains(string(b), enc) || strings.Contains(string(b), `"file-abc"`) {
			t.Fatalf("%s", b)
		}
	}
}

// A chat completion is stored by its body's store: true, or by its
// deployment's default, which the body's own store and drop_params
// override; no other API's request is a stored chat completion.
func TestStoresChat(t *testing.T) {
	yes := map[string]json.RawMessage{"store": json.RawMessage("true")}
	for _, tc := range []struct {
		name string
		req  Request
		want bool
	}{
		{"the body's", Request{Op: Chat, API: APIChat, Store: true, Body: []byte(`{"store":true}`)}, true},
		{"none", Request{Op: Chat, API: APIChat, Body: []byte(`{}`)}, false},
		{"the deployment's default", Request{Op: Chat, API: APIChat, Body: []byte(`{}`), Defaults: yes}, true},
		{"the body's false wins", Request{Op: Chat, API: APIChat, Body: []byte(`{"store":false}`), Defaults: yes}, false},
		{"dropped", Request{Op: Chat, API: APIChat, Body: []byte(`{}`), Defaults: yes, Drop: []string{"store"}}, false},
		{"a Responses request", Request{Op: Chat, API: APIResponses, Store: true, Body: []byte(`{"store":true}`)}, false},
	} {
		if got := storesChat(&tc.req); got != tc.want {
			t.Errorf("%s: stores %v, want %v", tc.name, got, tc.want)
		}
	}
}
