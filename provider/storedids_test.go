package provider

import (
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
