package mockllm

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// do makes a bodiless request and decodes its JSON answer.
func do(t *testing.T, method, url string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var v map[string]any
	_ = json.Unmarshal(data, &v)
	return resp.StatusCode, v
}

// The mock stores Responses as OpenAI does: by default, not with
// store: false; a stored one can be continued, retrieved, listed,
// cancelled (a background one) and deleted, and an unknown one is
// OpenAI's 404.
func TestStoredResponses(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	create := func(body string) (int, map[string]any) {
		resp, data := post(t, url+"/v1/responses", body, nil)
		var v map[string]any
		_ = json.Unmarshal(data, &v)
		return resp.StatusCode, v
	}
	_, first := create(`{"model":"gpt-x","input":"hi there"}`)
	id, _ := first["id"].(string)
	_, unstored := create(`{"model":"gpt-x","input":"hi","store":false}`)
	_, queued := create(`{"model":"gpt-x","input":"later","background":true}`)

	tests := []struct {
		name         string
		method, path string
		status       int
		check        func(map[string]any) bool
	}{
		{"retrieve", "GET", "/v1/responses/" + id, 200, func(v map[string]any) bool { return v["id"] == id && v["status"] == "completed" }},
		{"its input items", "GET", "/v1/responses/" + id + "/input_items", 200, func(v map[string]any) bool {
			data, _ := v["data"].([]any)
			return len(data) == 1 && strings.Contains(mustJSON(data), "hi there") && v["first_id"] != nil
		}},
		{"Azure's path", "GET", "/openai/responses/" + id + "?api-version=2025-03-01-preview", 200, func(v map[string]any) bool { return v["id"] == id }},
		{"store: false keeps nothing", "GET", "/v1/responses/" + unstored["id"].(string), 404, func(v map[string]any) bool {
			return strings.Contains(mustJSON(v), "No response found with id")
		}},
		{"a background response is queued, then done", "GET", "/v1/responses/" + queued["id"].(string), 200, func(v map[string]any) bool {
			return queued["status"] == "queued" && v["status"] == "completed"
		}},
		{"only a background response can be cancelled", "POST", "/v1/responses/" + id + "/cancel", 400, func(v map[string]any) bool {
			return strings.Contains(mustJSON(v), "background=true")
		}},
		{"a background one can", "POST", "/v1/responses/" + queued["id"].(string) + "/cancel", 200, func(v map[string]any) bool { return v["id"] == queued["id"] }},
		{"delete", "DELETE", "/v1/responses/" + id, 200, func(v map[string]any) bool { return v["id"] == id && v["deleted"] == true }},
		{"deleted, it is gone", "GET", "/v1/responses/" + id, 404, func(map[string]any) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, v := do(t, tt.method, url+tt.path)
			if status != tt.status || !tt.check(v) {
				t.Fatalf("%s %s: %d %v", tt.method, tt.path, status, v)
			}
		})
	}
	status, v := create(`{"model":"gpt-x","input":"again","previous_response_id":"` + id + `"}`)
	if status != 404 || !strings.Contains(mustJSON(v), "previous_response_not_found") {
		t.Fatalf("continuing a deleted response: %d %v", status, v)
	}
	if s := m.Stats(); s.Stored != int64(len(tests)) || s.Responses != 4 {
		t.Fatalf("stats %+v", s)
	}
}

// A stored response is streamed again with stream=true.
func TestStoredResponseStreamsAgain(t *testing.T) {
	_, url := newMock(t, Options{})
	_, data := post(t, url+"/v1/responses", `{"model":"gpt-x","input":"hi"}`, nil)
	var r struct{ ID string }
	_ = json.Unmarshal(data, &r)
	resp, err := http.Get(url + "/v1/responses/" + r.ID + "?stream=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "event: response.created") || !strings.Contains(string(body), "event: response.completed") ||
		strings.Count(string(body), `"id":"`+r.ID+`"`) != 2 {
		t.Fatalf("%s", body)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The mock's Conversations API keeps a conversation's items: those it is
// made with, those added, and a response's turns that join it.
func TestConversations(t *testing.T) {
	_, url := newMock(t, Options{})
	resp, data := post(t, url+"/v1/conversations", `{"items":[{"role":"user","content":"first"}],"metadata":{"topic":"doors"}}`, nil)
	var conv struct{ ID string }
	if resp.StatusCode != 200 || json.Unmarshal(data, &conv) != nil || !strings.HasPrefix(conv.ID, "conv_mock_") {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	base := url + "/v1/conversations/" + conv.ID
	if resp, data := post(t, base+"/items", `{"items":[{"role":"user","content":"second"}]}`, nil); resp.StatusCode != 200 {
		t.Fatalf("add: %d %s", resp.StatusCode, data)
	}
	if resp, data := post(t, url+"/v1/responses", `{"model":"m","input":"third","conversation":{"id":"`+conv.ID+`"}}`, nil); resp.StatusCode != 200 ||
		!strings.Contains(string(data), `"conversation":{"id":"`+conv.ID+`"}`) {
		t.Fatalf("a response in it: %d %s", resp.StatusCode, data)
	}
	status, list := do(t, "GET", base+"/items")
	items, _ := list["data"].([]any)
	if status != 200 || len(items) != 4 || !strings.Contains(mustJSON(items), "first") || !strings.Contains(mustJSON(items), "Hello from mockllm") {
		t.Fatalf("items: %d %v", status, list)
	}
	first := items[0].(map[string]any)["id"].(string)
	if status, v := do(t, "DELETE", base+"/items/"+first); status != 200 || v["id"] != conv.ID {
		t.Fatalf("delete an item: %d %v", status, v)
	}
	if status, v := do(t, "GET", base); status != 200 || mustJSON(v["metadata"]) != `{"topic":"doors"}` {
		t.Fatalf("get: %d %v", status, v)
	}
	if status, v := do(t, "DELETE", base); status != 200 || v["deleted"] != true {
		t.Fatalf("delete: %d %v", status, v)
	}
	if status, _ := do(t, "GET", base); status != 404 {
		t.Fatalf("a deleted conversation: %d", status)
	}
	if resp, _ := post(t, url+"/v1/responses", `{"model":"m","input":"x","conversation":"conv_nope"}`, nil); resp.StatusCode != 404 {
		t.Fatalf("a response in an unknown conversation: %d", resp.StatusCode)
	}
}

// A reasoning item sent back without its encrypted content is looked up
// by its id, as OpenAI does: one of a stored response is found, any other
// is OpenAI's 404.
func TestReasoningItemsAreLookedUp(t *testing.T) {
	_, url := newMock(t, Options{Name: "m"})
	resp, data := post(t, url+"/v1/responses", `{"model":"o3","input":"hi there"}`, nil)
	var first struct{ ID string }
	if err := json.Unmarshal(data, &first); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	for _, tc := range []struct {
		name, id string
		status   int
	}{
		{"a stored response's", "rs_" + first.ID, 200},
		{"one never stored", "rs_breakerd_x", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := post(t, url+"/v1/responses", `{"model":"o3","store":false,"input":[{"role":"user","content":"hi"},`+
				`{"type":"reasoning","id":"`+tc.id+`","summary":[]},{"role":"user","content":"again"}]}`, nil)
			if resp.StatusCode != tc.status || tc.status == 404 && !strings.Contains(string(data), "Item with id '"+tc.id+"' not found") {
				t.Fatalf("%d %s, want %d", resp.StatusCode, data, tc.status)
			}
		})
	}
}
