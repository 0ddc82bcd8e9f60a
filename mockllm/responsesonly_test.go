package mockllm

import (
	"strings"
	"testing"
)

// Models of the Responses API alone refuse chat completions, as OpenAI's
// do, and the Responses API refuses chat's parameters.
func TestResponsesOnlyModels(t *testing.T) {
	_, url := newMock(t, Options{Name: "o"})
	for _, tc := range []struct {
		name, path, body string
		status           int
		message          string
	}{
		{"a codex model's chat", "/v1/chat/completions", `{"model":"gpt-5.1-codex","messages":[{"role":"user","content":"hi"}]}`, 404, "only supported in v1/responses"},
		{"a pro model's chat", "/v1/chat/completions", `{"model":"gpt-5-pro","messages":[{"role":"user","content":"hi"}]}`, 404, "only supported in v1/responses"},
		{"GPT-5's chat", "/v1/chat/completions", `{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}`, 200, ""},
		{"a codex model's response", "/v1/responses", `{"model":"gpt-5.1-codex","input":"hi"}`, 200, ""},
		{"chat's messages", "/v1/responses", `{"model":"gpt-5.1-codex","input":"hi","messages":[]}`, 400, "Unknown parameter: 'messages'."},
		{"a limit below 16", "/v1/responses", `{"model":"gpt-5.1-codex","input":"hi","max_output_tokens":1}`, 400, "but got 1 instead."},
		{"a verbosity codex does not take", "/v1/responses", `{"model":"gpt-5.1-codex","input":"hi","text":{"verbosity":"low"}}`, 400,
			"Unsupported value: 'low' is not supported with the 'gpt-5.1-codex' model. Supported values are: 'medium'."},
		{"the one it takes", "/v1/responses", `{"model":"gpt-5.1-codex","input":"hi","text":{"verbosity":"medium"}}`, 200, ""},
		{"chat's stop", "/v1/responses", `{"model":"gpt-5.1-codex","input":"hi","stop":"x"}`, 400, "Unknown parameter: 'stop'."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, url+tc.path, tc.body, nil)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.message) {
				t.Fatalf("%d %s, want %d with %q", resp.StatusCode, body, tc.status, tc.message)
			}
		})
	}
}

// OverloadAfter ends a stream with its API's error event for an
// overloaded upstream: Anthropic's overloaded_error event, a chat error
// chunk, the Responses API's error event.
func TestOverloadAfterEndsStreamsWithTheirErrorEvent(t *testing.T) {
	m, url := newMock(t, Options{Name: "o"})
	m.SetFaults(Faults{OverloadAfter: 2})
	for _, tc := range []struct{ name, path, body, want string }{
		{"messages", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			"event: error\ndata: {\"error\":{\"message\":\"Overloaded\",\"type\":\"overloaded_error\"},\"type\":\"error\"}\n\n"},
		{"chat", "/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`, `"code":"server_is_overloaded"`},
		{"responses", "/v1/responses", `{"model":"gpt-4o","stream":true,"input":"hi"}`, "event: error\ndata: {\"code\":\"server_is_overloaded\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, url+tc.path, tc.body, map[string]string{"anthropic-version": "2023-06-01"})
			if resp.StatusCode != 200 || !strings.HasSuffix(string(body), "\n\n") || !strings.Contains(string(body), tc.want) || strings.Count(string(body), "data: ") != 3 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
		})
	}
}

// Azure's Responses API at a dated api-version older than it is a 400,
// as Azure answers it; from 2025-03-01-preview, and at the v1 API, it
// serves.
func TestAzureResponsesAPIVersions(t *testing.T) {
	_, url := newMock(t, Options{Name: "o"})
	for path, status := range map[string]int{
		"/openai/responses?api-version=2025-02-01-preview": 400,
		"/openai/responses?api-version=2025-03-01-preview": 200,
		"/openai/v1/responses?api-version=preview":         200,
	} {
		resp, body := post(t, url+path, `{"model":"gpt-5.1-codex","input":"hi"}`, nil)
		if resp.StatusCode != status || status == 400 && !strings.Contains(string(body), "enabled only for api-version 2025-03-01-preview and later") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}

// A custom tool (free-form input, Codex's apply_patch) the request names
// is called as OpenAI calls one: a custom_tool_call item, streamed with
// its input's delta and done events.
func TestResponsesCustomToolCalls(t *testing.T) {
	_, url := newMock(t, Options{Name: "m"})
	body := `{"model":"gpt-5.1-codex","input":"fix it","tools":[{"type":"custom","name":"apply_patch"}],"tool_choice":{"type":"custom","name":"apply_patch"}`
	for _, stream := range []string{"false", "true"} {
		_, b := post(t, url+"/v1/responses", body+`,"stream":`+stream+`}`, nil)
		out := string(b)
		if !strings.Contains(out, `"type":"custom_tool_call"`) || !strings.Contains(out, `"name":"apply_patch"`) ||
			(stream == "true") != strings.Contains(out, "response.custom_tool_call_input.delta") || strings.Contains(out, "function_call") {
			t.Fatalf("stream %s: %s", stream, out)
		}
	}
}
