package mockllm

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The mock stores chat completions made with store: true, whole or
// streamed, as OpenAI does: retrieved, listed oldest first (by model and
// metadata), its metadata updated, its messages paged, deleted; one not
// stored is a 404, and only the latest maxStored are kept.
func TestStoredChatCompletions(t *testing.T) {
	m, url := newMock(t, Options{Name: "m"})
	create := func(body string) string {
		_, data := post(t, url+"/v1/chat/completions", body, nil)
		var v struct{ ID string }
		if err := json.Unmarshal(data, &v); err != nil || v.ID == "" {
			t.Fatalf("created %s (%v)", data, err)
		}
		return v.ID
	}
	first := create(`{"model":"gpt-x","store":true,"metadata":{"tag":"a"},"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"one"}]}`)
	unstored := create(`{"model":"gpt-x","messages":[{"role":"user","content":"not kept"}]}`)
	_, streamed := post(t, url+"/v1/chat/completions", `{"model":"gpt-y","store":true,"stream":true,"messages":[{"role":"user","content":"two"}]}`, nil)
	second := fmt.Sprintf("chatcmpl-mock-%d", idSeq(first)+2)
	if !strings.Contains(string(streamed), second) {
		t.Fatalf("stream %s does not carry %s", streamed, second)
	}
	ids := func(v map[string]any) string {
		var out []string
		data, _ := v["data"].([]any)
		for _, d := range data {
			out = append(out, d.(map[string]any)["id"].(string))
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name         string
		method, path string
		status       int
		check        func(map[string]any) bool
	}{
		{"retrieve", "GET", "/v1/chat/completions/" + first, 200, func(v map[string]any) bool {
			return v["id"] == first && strings.Contains(mustJSON(v), "You said: one") && mustJSON(v["metadata"]) == `{"tag":"a"}`
		}},
		{"a streamed one, whole", "GET", "/v1/chat/completions/" + second, 200, func(v map[string]any) bool {
			return v["object"] == "chat.completion" && strings.Contains(mustJSON(v), "You said: two")
		}},
		{"Azure's path", "GET", "/openai/chat/completions/" + first + "?api-version=2025-02-01-preview", 200, func(v map[string]any) bool { return v["id"] == first }},
		{"not stored", "GET", "/v1/chat/completions/" + unstored, 404, func(v map[string]any) bool { return strings.Contains(mustJSON(v), "not found") }},
		{"the list, oldest first", "GET", "/v1/chat/completions", 200, func(v map[string]any) bool { return ids(v) == first+" "+second }},
		{"newest first", "GET", "/v1/chat/completions?order=desc", 200, func(v map[string]any) bool { return ids(v) == second+" "+first }},
		{"by model", "GET", "/v1/chat/completions?model=gpt-y", 200, func(v map[string]any) bool { return ids(v) == second }},
		{"by metadata", "GET", "/v1/chat/completions?metadata%5Btag%5D=a", 200, func(v map[string]any) bool { return ids(v) == first }},
		{"its messages, a page", "GET", "/v1/chat/completions/" + first + "/messages?limit=1", 200, func(v map[string]any) bool {
			return ids(v) == first+"-0" && v["has_more"] == true
		}},
		{"after a cursor", "GET", "/v1/chat/completions/" + first + "/messages?after=" + first + "-0", 200, func(v map[string]any) bool {
			return ids(v) == first+"-1" && strings.Contains(mustJSON(v), `"content":"one"`)
		}},
		{"its metadata updated", "POST", "/v1/chat/completions/" + first, 200, func(v map[string]any) bool { return mustJSON(v["metadata"]) == `{"tag":"b"}` }},
		{"deleted", "DELETE", "/v1/chat/completions/" + first, 200, func(v map[string]any) bool { return v["deleted"] == true && v["id"] == first }},
		{"gone", "GET", "/v1/chat/completions/" + first, 404, func(map[string]any) bool { return true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var status int
			var v map[string]any
			if tc.method == "POST" {
				resp, data := post(t, url+tc.path, `{"metadata":{"tag":"b"}}`, nil)
				status = resp.StatusCode
				_ = json.Unmarshal(data, &v)
			} else {
				status, v = do(t, tc.method, url+tc.path)
			}
			if status != tc.status || !tc.check(v) {
				t.Fatalf("%s %s: %d %s", tc.method, tc.path, status, mustJSON(v))
			}
		})
	}

	// Only the latest are kept.
	for i := range maxStored + 1 {
		m.files.storeChat(map[string]any{"id": fmt.Sprintf("chatcmpl-bulk-%d", i)}, &chatRequest{})
	}
	if n := len(m.files.chats); n != maxStored {
		t.Fatalf("%d kept, want %d", n, maxStored)
	}
	if _, ok := m.files.chats["chatcmpl-bulk-0"]; ok {
		t.Fatal("the oldest was kept")
	}
}

// What the mock makes carries its clock's time (Options.Now), and a list
// after an id it does not have is empty.
func TestObjectsTakeTheMocksClock(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	_, url := newMock(t, Options{Name: "m", Now: func() time.Time { return at }})
	_, data := post(t, url+"/v1/chat/completions", `{"model":"gpt-x","store":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	var c struct {
		ID      string
		Created int64
	}
	if err := json.Unmarshal(data, &c); err != nil || c.Created != at.Unix() {
		t.Fatalf("created %d, want %d (%s)", c.Created, at.Unix(), data)
	}
	_, data = post(t, url+"/v1/conversations", `{}`, nil)
	var conv struct {
		CreatedAt int64 `json:"created_at"`
	}
	if err := json.Unmarshal(data, &conv); err != nil || conv.CreatedAt != at.Unix() {
		t.Fatalf("conversation created_at %d, want %d (%s)", conv.CreatedAt, at.Unix(), data)
	}
	for _, tc := range []struct{ after, want string }{{"", c.ID}, {"chatcmpl-unknown", ""}} {
		status, v := do(t, "GET", url+"/v1/chat/completions?after="+tc.after)
		data, _ := v["data"].([]any)
		if status != 200 || len(data) != map[bool]int{true: 0, false: 1}[tc.want == ""] || v["has_more"] != false {
			t.Fatalf("after %q: %d %s", tc.after, status, mustJSON(v))
		}
	}
}
