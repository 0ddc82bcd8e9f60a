package mockllm

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The mock's vector stores hold its own files only, and its search
// ranks a store's files by the share of the query's words each holds.
func TestVectorStoreSearchRanksByTheQuerysWords(t *testing.T) {
	s := New(Options{})
	call := func(method, path, body string) (int, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		s.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	s.files.files = map[string]*mockFile{
		"file-1": {id: "file-1", filename: "a.txt", content: []byte("revenue grew in the north")},
		"file-2": {id: "file-2", filename: "b.txt", content: []byte("revenue fell")},
		"file-3": {id: "file-3", filename: "c.txt", content: []byte("nothing here")},
	}
	if code, body := call(http.MethodPost, "/v1/vector_stores", `{"file_ids":["file-9"]}`); code != 404 || !strings.Contains(body, "file-9") {
		t.Fatalf("a store of a file the mock does not have: %d %s", code, body)
	}
	code, body := call(http.MethodPost, "/v1/vector_stores", `{"name":"kb","file_ids":["file-1","file-2","file-3"]}`)
	if code != 200 || !strings.Contains(body, `"total":3`) {
		t.Fatalf("create: %d %s", code, body)
	}
	id := body[strings.Index(body, `"id":"`)+6:]
	id = id[:strings.IndexByte(id, '"')]
	code, body = call(http.MethodPost, "/v1/vector_stores/"+id+"/search", `{"query":"revenue grew"}`)
	first, second := strings.Index(body, `"file_id":"file-1"`), strings.Index(body, `"file_id":"file-2"`)
	if code != 200 || first < 0 || second < first || strings.Contains(body, "file-3") {
		t.Fatalf("search: %d %s; want file-1 (both words), then file-2 (one), not file-3", code, body)
	}
	if code, body := call(http.MethodPost, "/v1/responses", `{"model":"m","input":"hi","tools":[{"type":"file_search","vector_store_ids":["vs_nope"]}]}`); code != 404 || !strings.Contains(body, "vs_nope") {
		t.Fatalf("file_search of an unknown store: %d %s", code, body)
	}
}
